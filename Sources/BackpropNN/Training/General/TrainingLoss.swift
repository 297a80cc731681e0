/// What a `Trainer` minimises: the model's mean loss on a batch, and the output metrics are measured on.
///
/// Any closure will do; the common ones are ready made for `Dataset` batches:
///
/// ```swift
/// TrainingLoss<Regressor, Dataset<Float>>.meanSquaredError          // targets
/// TrainingLoss<Regressor, Dataset<Float>>.huber(delta: 1)
/// TrainingLoss<Classifier, Dataset<Float>>.softmaxCrossEntropy      // labels
/// TrainingLoss<CharModel, TokenBatch> { model, batch, context in   // a next-token loss
///     softmaxCrossEntropy(logits: model(batch.inputs, context: context), labels: batch.nextTokens)
/// }
/// ```
///
/// A `Trainer` compiles its step (see `Trainer.compilesSteps`) when the loss has a `tensorForm`: the
/// ready-made losses have one, and `init(tensors:evaluate:)` makes one of one's own. A loss given as a
/// closure of the batch has none (the batch may hold host values, such as integer labels, that a compiled
/// program would keep from its first call), so its steps run eagerly.
public struct TrainingLoss<Model: Layer, Batch> {
    /// The batch's mean loss (a one-element tensor) and the model's output (what metrics read).
    public let evaluate: (_ model: Model, _ batch: Batch, _ context: ForwardContext) -> (loss: Tensor<Model.Scalar>, output: Tensor<Model.Scalar>)
    /// The loss as a function of tensors alone, which a compiled training step traces once per list of batch
    /// shapes and replays: nil when the loss has no such form (its steps then run eagerly).
    public let tensorForm: TensorForm?

    /// A loss written as a function of tensors: how a batch becomes tensors (everything the loss reads from
    /// the batch, labels included), and the loss and output of the model on those tensors.
    public struct TensorForm {
        /// The batch's tensors, the compiled program's inputs beside the model's parameters.
        public let tensors: (_ batch: Batch) -> [Tensor<Model.Scalar>]
        /// The batch's mean loss and the model's output, from the model and the batch's tensors; it must read
        /// nothing else that changes from batch to batch.
        public let evaluate: (_ model: Model, _ tensors: [Tensor<Model.Scalar>], _ context: ForwardContext) -> (loss: Tensor<Model.Scalar>, output: Tensor<Model.Scalar>)
        /// Checks on the host what the traced `evaluate` cannot (labels within the output's classes), given
        /// the output and the batch after each compiled step.
        let check: ((_ output: Tensor<Model.Scalar>, _ batch: Batch) -> Void)?
    }

    /// A loss from both forms: `evaluate` for eager steps, `tensorForm` for compiled ones.
    init(
        evaluate: @escaping (Model, Batch, ForwardContext) -> (loss: Tensor<Model.Scalar>, output: Tensor<Model.Scalar>),
        tensorForm: TensorForm?
    ) {
        self.evaluate = evaluate
        self.tensorForm = tensorForm
    }

    /// A loss written as a function of tensors, which a `Trainer` can compile: `tensors` turns a batch into
    /// the tensors the loss reads (its features, its targets, its labels as a tensor), and `evaluate` returns
    /// the batch's mean loss and the output metrics read, from the model and those tensors. Eager steps call
    /// the same two closures.
    ///
    /// ```swift
    /// TrainingLoss<Regressor, Dataset<Float>>(tensors: { [$0.features, $0.targets!] }) { model, tensors, context in
    ///     let prediction = model(tensors[0], context: context)
    ///     return (meanSquaredError(predicted: prediction, expected: tensors[1]), prediction)
    /// }
    /// ```
    public init(
        tensors: @escaping (_ batch: Batch) -> [Tensor<Model.Scalar>],
        evaluate: @escaping (_ model: Model, _ tensors: [Tensor<Model.Scalar>], _ context: ForwardContext) -> (loss: Tensor<Model.Scalar>, output: Tensor<Model.Scalar>)
    ) {
        self.evaluate = { model, batch, context in evaluate(model, tensors(batch), context) }
        tensorForm = TensorForm(tensors: tensors, evaluate: evaluate, check: nil)
    }

    /// A loss from the model's output on a batch (`output`) and a loss of that output (`loss`); metrics
    /// read the output.
    public init(
        output: @escaping (_ model: Model, _ batch: Batch, _ context: ForwardContext) -> Tensor<Model.Scalar>,
        loss: @escaping (_ output: Tensor<Model.Scalar>, _ batch: Batch) -> Tensor<Model.Scalar>
    ) {
        evaluate = { model, batch, context in
            let prediction = output(model, batch, context)
            return (loss(prediction, batch), prediction)
        }
        tensorForm = nil
    }

    /// A loss computed in one closure (metrics then read the loss itself as the output).
    public init(_ loss: @escaping (_ model: Model, _ batch: Batch, _ context: ForwardContext) -> Tensor<Model.Scalar>) {
        evaluate = { model, batch, context in
            let value = loss(model, batch, context)
            return (value, value)
        }
        tensorForm = nil
    }
}

extension TrainingLoss where Batch == Dataset<Model.Scalar> {
    /// The softmax cross-entropy of the outputs (logits) against the batch's labels. Eager steps use the
    /// fused primitive on the integer labels; compiled ones take the labels as a tensor (see `tensorForm`).
    public static var softmaxCrossEntropy: TrainingLoss {
        TrainingLoss(
            evaluate: { model, batch, context in
                let logits = model(batch.features, context: context)
                return (BackpropNN.softmaxCrossEntropy(logits: logits, labels: batch.labels), logits)
            },
            tensorForm: TensorForm(
                tensors: { batch in [batch.features, labelTensor(batch)] },
                evaluate: { model, tensors, context in
                    let logits = model(tensors[0], context: context)
                    return (BackpropNN.softmaxCrossEntropy(logits: logits, labelIndices: tensors[1]), logits)
                },
                check: { logits, batch in
                    let classes = logits.shape[1]
                    precondition(
                        batch.labels.allSatisfy { $0 >= 0 && $0 < classes },
                        "TrainingLoss.softmaxCrossEntropy: labels must lie in 0..<\(classes)")
                }))
    }

    /// The mean squared error of the outputs against the batch's targets.
    public static var meanSquaredError: TrainingLoss {
        regression("meanSquaredError") { BackpropNN.meanSquaredError(predicted: $0, expected: $1) }
    }

    /// The Huber loss of the outputs against the batch's targets (see `huberLoss(predicted:expected:delta:)`).
    public static func huber(delta: Double = 1) -> TrainingLoss {
        regression("huber") { huberLoss(predicted: $0, expected: $1, delta: delta) }
    }

    /// A loss of the outputs against the batch's targets, the same function eagerly and compiled.
    private static func regression(
        _ api: String, _ loss: @escaping (_ predicted: Tensor<Model.Scalar>, _ expected: Tensor<Model.Scalar>) -> Tensor<Model.Scalar>
    ) -> TrainingLoss {
        TrainingLoss(
            evaluate: { model, batch, context in
                let prediction = model(batch.features, context: context)
                return (loss(prediction, regressionTargets(batch, api)), prediction)
            },
            tensorForm: TensorForm(
                tensors: { batch in [batch.features, regressionTargets(batch, api)] },
                evaluate: { model, tensors, context in
                    let prediction = model(tensors[0], context: context)
                    return (loss(prediction, tensors[1]), prediction)
                },
                check: nil))
    }
}

/// A classification batch's labels as a column `[n, 1]` of class indices.
private func labelTensor<Scalar>(_ batch: Dataset<Scalar>) -> Tensor<Scalar> {
    precondition(
        batch.labels.count == batch.count, "TrainingLoss.softmaxCrossEntropy: \(batch.labels.count) labels for \(batch.count) examples")
    return Tensor(shape: [batch.count, 1], scalars: batch.labels.map { Scalar($0) })
}

/// The mean softmax cross-entropy of `logits` `[n, classes]` against class indices held in a tensor
/// `[n, 1]`, from tensor operations alone (so that a compiled program reads the labels as an input):
/// −Σ onehot ⊙ logSoftmax(logits) / n.
func softmaxCrossEntropy<Scalar>(logits: Tensor<Scalar>, labelIndices: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
        logits.rank == 2 && labelIndices.shape == [logits.shape[0], 1],
        "softmaxCrossEntropy(logits:labelIndices:): needs logits [n, classes] and indices [n, 1], got \(logits.shape) and \(labelIndices.shape)")
    let (n, classes) = (logits.shape[0], logits.shape[1])
    let classIndices = Tensor<Scalar>(shape: [1, classes], scalars: (0..<classes).map { Scalar($0) })
    let onehot = labelIndices .== classIndices
    return -(onehot * logits.logSoftmax(alongAxis: 1)).sum() / Scalar(Swift.max(n, 1))
}

/// The targets of a regression batch, which must have them.
private func regressionTargets<Scalar>(_ batch: Dataset<Scalar>, _ api: String) -> Tensor<Scalar> {
    guard let targets = batch.targets else { preconditionFailure("TrainingLoss.\(api): the data set has no regression targets") }
    return targets
}
