/// Trains a multilayer perceptron to classify: mini-batch gradient descent on the softmax cross-entropy,
/// lecture 000's loop of forward pass, backward pass and update, one epoch at a time.
///
/// ```swift
/// let (train, test) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
/// var trainer = ClassifierTrainer<Float>(configuration: TrainingConfiguration(), inputSize: 64, classCount: 10)
/// try trainer.train(on: train, evaluatingOn: test)
/// print(trainer.evaluate(on: test).accuracy)
/// ```
///
/// A run is a function of its configuration and data: every random choice (initial weights, each epoch's
/// order, dropout masks) is drawn from the configuration's seed, so the same run twice, or a run resumed
/// from a checkpoint, gives the same numbers.
///
/// For data-parallel training over several processes, set `gradientReduction` (see `GradientReduction`;
/// `BackpropDistributed.MPIGradientReduction` over MPI): each process then computes on its shard of every
/// batch and all apply the same averaged step.
public struct ClassifierTrainer<Scalar: TensorScalar> {
    /// What decides the run.
    public let configuration: TrainingConfiguration
    /// The network being trained.
    public var model: Sequential<Scalar>
    /// The optimizer and its state.
    public var optimizer: any Optimizer<Scalar>
    /// One record per completed epoch.
    public var history: [EpochRecord]
    /// Features per example.
    public let inputSize: Int
    /// The number of classes (outputs of the network).
    public let classCount: Int
    /// How gradient steps and evaluation are shared with other workers (data parallelism), or nil (the
    /// default) to train in this process alone. See `GradientReduction`.
    public var gradientReduction: (any GradientReduction)? = nil

    /// Creates a trainer with a freshly initialised model.
    ///
    /// - Precondition: `inputSize` and `classCount` are positive, and the configuration's widths,
    ///   epochs and batch size are positive.
    public init(configuration: TrainingConfiguration, inputSize: Int, classCount: Int) {
        precondition(inputSize > 0 && classCount > 0, "ClassifierTrainer: inputSize and classCount must be positive")
        precondition(
            configuration.epochs >= 0 && configuration.batchSize > 0 && configuration.learningRate > 0,
            "ClassifierTrainer: epochs, batch size and learning rate must be positive")
        self.configuration = configuration
        self.inputSize = inputSize
        self.classCount = classCount
        if let architecture = configuration.architecture {
            let shape = configuration.exampleShape ?? [inputSize]
            precondition(shape.reduce(1, *) == inputSize, "ClassifierTrainer: example shape \(shape) does not hold \(inputSize) features")
            do {
                self.model = try architecture.model(exampleShape: shape, classCount: classCount, seed: configuration.seed)
            } catch {
                preconditionFailure("ClassifierTrainer: \(error) (check the architecture with ArchitectureSpecification.validate first)")
            }
        } else {
            self.model = .multilayerPerceptron(
                widths: [inputSize] + configuration.hiddenWidths + [classCount], activation: configuration.activation,
                dropout: configuration.dropout, seed: configuration.seed)
        }
        self.optimizer = configuration.optimizer.make(learningRate: configuration.learningRate)
        self.history = []
    }

    /// The number of epochs trained so far.
    public var completedEpochs: Int { history.count }

    /// Trains the remaining epochs (up to `configuration.epochs`), evaluating on `test` after each, and
    /// returns their records. `progress` is called after every batch.
    ///
    /// - Throws: `TrainingDiverged` at the first batch whose loss or gradient is not finite; the epochs
    ///   completed before it stay in `history`.
    @discardableResult
    public mutating func train(
        on train: Dataset<Scalar>, evaluatingOn test: Dataset<Scalar>? = nil,
        progress: ((TrainingProgress) -> Void)? = nil
    ) throws -> [EpochRecord] {
        var records: [EpochRecord] = []
        while completedEpochs < configuration.epochs {
            records.append(try trainEpoch(on: train, evaluatingOn: test, progress: progress))
        }
        return records
    }

    /// Trains one epoch: every batch of `train` in this epoch's seeded order, one update each; then
    /// evaluates on `test` when given.
    ///
    /// - Precondition: the data's feature count is `inputSize` and its labels lie in `0..<classCount`.
    /// - Throws: `TrainingDiverged` at the first batch whose loss or gradient is not finite, before that
    ///   batch's update, or when a parameter or the held-out loss is not finite after the epoch's last update
    ///   (the parameters are then not finite: restore them from the last checkpoint); the epoch is then not
    ///   recorded.
    @discardableResult
    public mutating func trainEpoch(
        on train: Dataset<Scalar>, evaluatingOn test: Dataset<Scalar>? = nil,
        progress: ((TrainingProgress) -> Void)? = nil
    ) throws -> EpochRecord {
        precondition(
            train.featureCount == inputSize,
            "ClassifierTrainer.trainEpoch: data has \(train.featureCount) features, model expects \(inputSize)")
        let epoch = completedEpochs
        let learningRate = configuration.schedule.learningRate(base: configuration.learningRate, epoch: epoch)
        optimizer.learningRate = learningRate
        let loader = DataLoader(dataset: train, batchSize: configuration.batchSize, shuffles: true, seed: configuration.seed)
        let batches = loader.batchCount
        let clock = ContinuousClock()
        let start = clock.now
        var lossSum = 0.0, correct = 0, seen = 0
        for (index, batch) in loader.batches(epoch: epoch).enumerated() {
            let seed = batchSeed(epoch: epoch, batch: index)
            let loss: Double, batchCorrect: Int, finite: Bool
            if let reduction = gradientReduction {
                (loss, batchCorrect, finite) = try shardedStep(
                    features: batch.features, labels: batch.labels, seed: seed, reduction: reduction)
            } else {
                let logits: Tensor<Scalar>
                (loss, logits, finite) = step(
                    features: batch.features, labels: batch.labels, context: ForwardContext(mode: .training, seed: seed))
                batchCorrect = zip(predictedClasses(logits), batch.labels).filter { $0 == $1 }.count
            }
            guard finite else {
                throw TrainingDiverged(
                    epoch: epoch + 1, batch: index + 1, batches: batches, loss: loss, cause: loss.isFinite ? .gradient : .loss)
            }
            lossSum += loss * Double(batch.labels.count)
            correct += batchCorrect
            seen += batch.labels.count
            if let progress {
                let elapsed = (clock.now - start).seconds
                progress(
                    TrainingProgress(
                        epoch: epoch + 1, epochs: configuration.epochs, batch: index + 1, batches: batches,
                        loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                        examplesPerSecond: elapsed > 0 ? Double(seen) / elapsed : 0, elapsedSeconds: elapsed))
            }
        }
        let seconds = (clock.now - start).seconds
        if let reduction = gradientReduction, !model.buffers.isEmpty {
            // Per-shard batch statistics moved each worker's running statistics differently: take worker 0's.
            try reduction.broadcast(generic: &model.buffers)
        }
        // The last update's loss and gradients were finite, but the step itself can overflow (a learning rate
        // of 1e30, say): nothing not finite may reach the history, nor a checkpoint written from it.
        guard allFinite(model.parameters), allFinite(model.buffers) else {
            throw TrainingDiverged(epoch: epoch + 1, batch: batches, batches: batches, loss: lossSum / Double(Swift.max(seen, 1)), cause: .parameters)
        }
        let evaluation = try test.map { try evaluationTotals(on: $0) }
        if let loss = evaluation?.loss, !loss.isFinite, test?.count ?? 0 > 0 {
            throw TrainingDiverged(epoch: epoch + 1, batch: batches, batches: batches, loss: loss, cause: .testLoss)
        }
        let record = EpochRecord(
            epoch: epoch + 1, learningRate: learningRate, trainLoss: seen > 0 ? lossSum / Double(seen) : .nan,
            trainAccuracy: seen > 0 ? Double(correct) / Double(seen) : .nan, testLoss: evaluation?.loss,
            testAccuracy: evaluation?.accuracy, seconds: seconds)
        history.append(record)
        return record
    }

    /// One gradient step on a batch; returns the batch's loss and logits (before the update), and whether
    /// the loss and gradients were finite. When they were not, the update is not applied.
    mutating func step(features: Tensor<Scalar>, labels: [Int], context: ForwardContext) -> (Double, Tensor<Scalar>, Bool) {
        var (loss, gradients, logits) = lossAndGradients(features: features, labels: labels, context: context)
        guard loss.scalar.isFinite, allFinite(gradients) else { return (Double(loss.scalar), logits, false) }
        update(along: &gradients)
        return (Double(loss.scalar), logits, true)
    }

    /// The batch's mean softmax cross-entropy (times `lossScale` when given: the summed loss for a shard),
    /// its gradients with respect to the parameters, and the logits (detached).
    func lossAndGradients(
        features: Tensor<Scalar>, labels: [Int], context: ForwardContext, lossScale: Scalar? = nil
    ) -> (Tensor<Scalar>, [Tensor<Scalar>], Tensor<Scalar>) {
        let model = self.model
        var logits = Tensor<Scalar>(0)
        let (loss, gradients) = valueWithGradient(at: model.parameters) { parameters in
            var network = model
            network.parameters = parameters
            let output = network(features, context: context)
            logits = output
            let mean = softmaxCrossEntropy(logits: output, labels: labels)
            return lossScale.map { mean * $0 } ?? mean
        }
        return (loss, gradients, logits.detached())
    }

    /// Clips `gradients` when the configuration says so and applies the optimizer's step.
    mutating func update(along gradients: inout [Tensor<Scalar>]) {
        if let maxNorm = configuration.maxGradientNorm { clipByGlobalNorm(&gradients, maxNorm: maxNorm) }
        optimizer.update(&self.model.parameters, along: gradients)
    }

    /// The model's loss, accuracy and predicted classes on `data`, in evaluation mode (no dropout, no
    /// gradient recorded).
    public func evaluate(on data: Dataset<Scalar>) -> ClassifierEvaluation {
        let logits = self.logits(data.features)
        let predictions = predictedClasses(logits)
        let loss = withoutRecording { softmaxCrossEntropy(logits: logits, labels: data.labels) }
        return ClassifierEvaluation(
            loss: Double(loss.scalar), accuracy: accuracy(predictions: predictions, labels: data.labels),
            predictions: predictions)
    }

    /// The network's outputs for a batch of features, in evaluation mode.
    public func logits(_ features: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(
            features.rank == 2 && features.shape[1] == inputSize,
            "ClassifierTrainer.logits: expected features of shape [n, \(inputSize)], got \(features.shape)")
        // In slices, so that a large evaluation set does not unfold every image's patches at once.
        let rows = features.shape[0], slice = 512
        guard rows > slice else { return withoutRecording { model(features) } }
        return withoutRecording {
            Tensor(concatenating: stride(from: 0, to: rows, by: slice).map { start in
                model(features.slicing(start..<Swift.min(rows, start + slice), alongAxis: 0))
            }, alongAxis: 0)
        }
    }

    /// The seed of a batch's dropout masks: a mix of the run's seed, the epoch and the batch, so a
    /// resumed run draws the same masks as an uninterrupted one.
    func batchSeed(epoch: Int, batch: Int) -> UInt64 {
        var x = configuration.seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(batch) &* 0xBF58_476D_1CE4_E5B9)
        x = (x ^ (x >> 31)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 29)
    }
}

/// How a classifier did on a data set.
public struct ClassifierEvaluation: Sendable {
    /// The mean softmax cross-entropy.
    public var loss: Double
    /// The fraction classified correctly.
    public var accuracy: Double
    /// The predicted class of each example.
    public var predictions: [Int]
}

/// Where a training run stands, reported after each batch.
public struct TrainingProgress: Sendable {
    /// The current epoch, from 1.
    public var epoch: Int
    /// The number of epochs in the run.
    public var epochs: Int
    /// Batches done in this epoch, from 1.
    public var batch: Int
    /// Batches in an epoch.
    public var batches: Int
    /// The mean loss over this epoch's batches so far.
    public var loss: Double
    /// The fraction of this epoch's examples so far classified correctly.
    public var accuracy: Double
    /// Training throughput in this epoch so far.
    public var examplesPerSecond: Double
    /// Seconds since the epoch started.
    public var elapsedSeconds: Double

    /// The estimated seconds left in this epoch, from the pace so far.
    public var estimatedSecondsLeft: Double {
        batch > 0 ? elapsedSeconds / Double(batch) * Double(batches - batch) : 0
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
