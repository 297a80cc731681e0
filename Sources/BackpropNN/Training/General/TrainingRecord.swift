/// What one epoch of a `Trainer` measured: the mean training loss and metrics (as the model stood at each
/// batch), and the held-out loss and metrics after the epoch.
public struct TrainingRecord: Sendable, Equatable, Codable {
    /// The epoch's number, from 1.
    public var epoch: Int
    /// The learning rate used during the epoch.
    public var learningRate: Double
    /// The mean training loss per example over the epoch's batches.
    public var trainLoss: Double
    /// The training metrics by name.
    public var trainMetrics: [String: Double]
    /// The held-out loss after the epoch, when there was held-out data.
    public var testLoss: Double?
    /// The held-out metrics by name (empty without held-out data).
    public var testMetrics: [String: Double]
    /// Wall-clock seconds the epoch's training steps took (evaluation excluded).
    public var seconds: Double

    /// Creates a record.
    public init(
        epoch: Int, learningRate: Double, trainLoss: Double, trainMetrics: [String: Double] = [:], testLoss: Double? = nil,
        testMetrics: [String: Double] = [:], seconds: Double
    ) {
        self.epoch = epoch
        self.learningRate = learningRate
        self.trainLoss = trainLoss
        self.trainMetrics = trainMetrics
        self.testLoss = testLoss
        self.testMetrics = testMetrics
        self.seconds = seconds
    }
}

/// A model's loss and metrics over a whole data set, in evaluation mode.
public struct TrainingEvaluation: Sendable, Equatable {
    /// The mean loss per example.
    public var loss: Double
    /// The metrics by name.
    public var metrics: [String: Double]
    /// The examples evaluated.
    public var count: Int

    /// Creates an evaluation.
    public init(loss: Double, metrics: [String: Double], count: Int) {
        self.loss = loss
        self.metrics = metrics
        self.count = count
    }
}
