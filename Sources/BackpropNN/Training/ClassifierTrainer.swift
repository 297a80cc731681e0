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
    /// The general trainer this one sets up: softmax cross-entropy, the accuracy metric, the configuration's
    /// optimizer and settings.
    public var trainer: Trainer<Sequential<Scalar>, Dataset<Scalar>>
    /// Features per example.
    public let inputSize: Int
    /// The number of classes (outputs of the network).
    public let classCount: Int
    /// What raw input rows go through before the network sees them, when known: stored by `checkpoint`,
    /// read by `init(resumingFrom:)`, applied by `probabilities(forRawFeatures:)`.
    public var inputPreprocessing: InputPreprocessing<Scalar>? = nil
    /// For a checkpoint written before checkpoints recorded their preprocessing: what
    /// `init(resumingFrom:)` assumed, as a sentence to show as a warning (nil otherwise).
    public var preprocessingAssumption: String? = nil

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
        let model: Sequential<Scalar>
        if let architecture = configuration.architecture {
            let shape = configuration.exampleShape ?? [inputSize]
            precondition(shape.reduce(1, *) == inputSize, "ClassifierTrainer: example shape \(shape) does not hold \(inputSize) features")
            do {
                model = try architecture.model(exampleShape: shape, classCount: classCount, seed: configuration.seed)
            } catch {
                preconditionFailure("ClassifierTrainer: \(error) (check the architecture with ArchitectureSpecification.validate first)")
            }
        } else {
            model = .multilayerPerceptron(
                widths: [inputSize] + configuration.hiddenWidths + [classCount], activation: configuration.activation,
                dropout: configuration.dropout, seed: configuration.seed)
        }
        trainer = Trainer(
            model: model, optimizer: configuration.optimizer.make(learningRate: configuration.learningRate),
            settings: TrainingSettings(
                epochs: configuration.epochs, batchSize: configuration.batchSize, learningRate: configuration.learningRate,
                schedule: configuration.schedule, maxGradientNorm: configuration.maxGradientNorm, seed: configuration.seed),
            loss: .softmaxCrossEntropy, metrics: [.accuracy])
        trainer.compilesSteps = true
    }

    /// The network being trained.
    public var model: Sequential<Scalar> {
        get { trainer.model }
        _modify { yield &trainer.model }
    }

    /// The optimizer and its state.
    public var optimizer: any Optimizer<Scalar> {
        get { trainer.optimizer }
        _modify { yield &trainer.optimizer }
    }

    /// One record per completed epoch.
    public var history: [EpochRecord] {
        get { trainer.history.map(EpochRecord.init) }
        set { trainer.history = newValue.map(TrainingRecord.init) }
    }

    /// How gradient steps and evaluation are shared with other workers (data parallelism), or nil (the
    /// default) to train in this process alone. See `GradientReduction`.
    public var gradientReduction: (any GradientReduction)? {
        get { trainer.gradientReduction }
        set { trainer.gradientReduction = newValue }
    }

    /// The number of epochs trained so far.
    public var completedEpochs: Int { trainer.completedEpochs }

    /// Whether each training step runs through a compiled program (true, the default) or eagerly (false);
    /// see `Trainer.compilesSteps`. Both end with the same parameters up to rounding. A classifier's layers
    /// are all traceable, so its step compiles by default; a network with `BatchNorm` trains eagerly
    /// (`eagerStepReason` says so).
    public var compilesSteps: Bool {
        get { trainer.compilesSteps }
        set { trainer.compilesSteps = newValue }
    }

    /// Why training steps run eagerly although `compilesSteps` is on (nil when they are compiled or when it
    /// is off).
    public var eagerStepReason: String? { trainer.eagerStepReason }

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
        let classCount = self.classCount
        let record = try trainer.trainEpoch(on: train, progress: progress) { trainer in
            try test.map { data in
                let totals = try Self.evaluationTotals(of: trainer.model, on: data, classCount: classCount, reduction: trainer.gradientReduction)
                return TrainingEvaluation(loss: totals.loss, metrics: ["accuracy": totals.accuracy], count: totals.count)
            }
        }
        return EpochRecord(record)
    }

    /// The model's loss, accuracy and predicted classes on `data`, in evaluation mode (no dropout, no
    /// gradient recorded).
    public func evaluate(on data: Dataset<Scalar>) -> ClassifierEvaluation {
        Self.evaluate(model, on: data)
    }

    /// `model`'s loss, accuracy and predicted classes on `data`, in evaluation mode.
    static func evaluate(_ model: Sequential<Scalar>, on data: Dataset<Scalar>) -> ClassifierEvaluation {
        let logits = self.logits(of: model, data.features)
        let predictions = predictedClasses(logits)
        let loss = withoutRecording { softmaxCrossEntropy(logits: logits, labels: data.labels) }
        return ClassifierEvaluation(
            loss: Double(loss.scalar), accuracy: accuracy(predictions: predictions, labels: data.labels),
            predictions: predictions)
    }

    /// The class probabilities `[n, classCount]` of raw input rows `[n, inputSize]`: `inputPreprocessing`
    /// applied first (the rows are taken as the network's inputs when there is none).
    public func probabilities(forRawFeatures features: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(
            features.rank == 2 && features.shape[1] == inputSize,
            "ClassifierTrainer.probabilities(forRawFeatures:): expected rows of shape [n, \(inputSize)], got \(features.shape)")
        let inputs = inputPreprocessing.map { $0.apply(toRaw: features) } ?? features
        return withoutRecording { logits(inputs).softmax(alongAxis: 1) }
    }

    /// The network's outputs for a batch of features, in evaluation mode.
    public func logits(_ features: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(
            features.rank == 2 && features.shape[1] == inputSize,
            "ClassifierTrainer.logits: expected features of shape [n, \(inputSize)], got \(features.shape)")
        return Self.logits(of: model, features)
    }

    /// `model`'s outputs for a batch of features, in evaluation mode, in slices, so that a large evaluation
    /// set does not unfold every image's patches at once.
    static func logits(of model: Sequential<Scalar>, _ features: Tensor<Scalar>) -> Tensor<Scalar> {
        let rows = features.shape[0], slice = 512
        guard rows > slice else { return withoutRecording { model(features) } }
        return withoutRecording {
            Tensor(concatenating: stride(from: 0, to: rows, by: slice).map { start in
                model(features.slicing(start..<Swift.min(rows, start + slice), alongAxis: 0))
            }, alongAxis: 0)
        }
    }
}

extension EpochRecord {
    /// A classifier's record from the general trainer's (its `accuracy` metrics).
    init(_ record: TrainingRecord) {
        self.init(
            epoch: record.epoch, learningRate: record.learningRate, trainLoss: record.trainLoss,
            trainAccuracy: record.trainMetrics["accuracy"] ?? .nan, testLoss: record.testLoss,
            testAccuracy: record.testMetrics["accuracy"], seconds: record.seconds)
    }
}

extension TrainingRecord {
    /// The general trainer's record of a classifier's (accuracy as the `accuracy` metric).
    init(_ record: EpochRecord) {
        self.init(
            epoch: record.epoch, learningRate: record.learningRate, trainLoss: record.trainLoss,
            trainMetrics: ["accuracy": record.trainAccuracy], testLoss: record.testLoss,
            testMetrics: record.testAccuracy.map { ["accuracy": $0] } ?? [:], seconds: record.seconds)
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
    /// The fraction of this epoch's examples so far classified correctly (NaN when not measured).
    public var accuracy: Double
    /// This epoch's metrics so far, by name (`accuracy` among them for a classifier).
    public var metrics: [String: Double] = [:]
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
