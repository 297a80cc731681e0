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
public struct TrainingLoss<Model: Layer, Batch> {
    /// The batch's mean loss (a one-element tensor) and the model's output (what metrics read).
    public let evaluate: (_ model: Model, _ batch: Batch, _ context: ForwardContext) -> (loss: Tensor<Model.Scalar>, output: Tensor<Model.Scalar>)

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
    }

    /// A loss computed in one closure (metrics then read the loss itself as the output).
    public init(_ loss: @escaping (_ model: Model, _ batch: Batch, _ context: ForwardContext) -> Tensor<Model.Scalar>) {
        evaluate = { model, batch, context in
            let value = loss(model, batch, context)
            return (value, value)
        }
    }
}

extension TrainingLoss where Batch == Dataset<Model.Scalar> {
    /// The softmax cross-entropy of the outputs (logits) against the batch's labels.
    public static var softmaxCrossEntropy: TrainingLoss {
        TrainingLoss(output: { model, batch, context in model(batch.features, context: context) }) { logits, batch in
            BackpropNN.softmaxCrossEntropy(logits: logits, labels: batch.labels)
        }
    }

    /// The mean squared error of the outputs against the batch's targets.
    public static var meanSquaredError: TrainingLoss {
        TrainingLoss(output: { model, batch, context in model(batch.features, context: context) }) { prediction, batch in
            BackpropNN.meanSquaredError(predicted: prediction, expected: regressionTargets(batch, "meanSquaredError"))
        }
    }

    /// The Huber loss of the outputs against the batch's targets (see `huberLoss(predicted:expected:delta:)`).
    public static func huber(delta: Double = 1) -> TrainingLoss {
        TrainingLoss(output: { model, batch, context in model(batch.features, context: context) }) { prediction, batch in
            huberLoss(predicted: prediction, expected: regressionTargets(batch, "huber"), delta: delta)
        }
    }
}

/// The targets of a regression batch, which must have them.
private func regressionTargets<Scalar>(_ batch: Dataset<Scalar>, _ api: String) -> Tensor<Scalar> {
    guard let targets = batch.targets else { preconditionFailure("TrainingLoss.\(api): the data set has no regression targets") }
    return targets
}
