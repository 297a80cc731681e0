/// How a `Trainer` runs: epochs, batch size, learning rate and its schedule, gradient clipping and the
/// seed every random choice (each epoch's order, dropout masks) is drawn from.
public struct TrainingSettings: Sendable, Equatable {
    /// Passes over the training data.
    public var epochs: Int
    /// Examples per gradient step.
    public var batchSize: Int
    /// The base learning rate, given to the optimizer at each epoch through `schedule`; nil (the default)
    /// for the optimizer's own.
    public var learningRate: Double?
    /// How the learning rate changes from epoch to epoch.
    public var schedule: LearningRateSchedule
    /// Clip gradients to this global norm before each update (nil for no clipping).
    public var maxGradientNorm: Double?
    /// Seeds the order of the batches and the dropout masks.
    public var seed: UInt64

    /// Creates settings.
    ///
    /// - Precondition: `epochs >= 0`, `batchSize > 0`, and `learningRate` and `maxGradientNorm`, if any, `> 0`.
    public init(
        epochs: Int, batchSize: Int = 32, learningRate: Double? = nil, schedule: LearningRateSchedule = .constant,
        maxGradientNorm: Double? = nil, seed: UInt64 = 0
    ) {
        precondition(epochs >= 0, "TrainingSettings: epochs must not be negative, got \(epochs)")
        precondition(batchSize > 0, "TrainingSettings: batchSize must be positive, got \(batchSize)")
        if let learningRate {
            precondition(learningRate > 0 && learningRate.isFinite, "TrainingSettings: learningRate must be positive, got \(learningRate)")
        }
        if let maxGradientNorm { precondition(maxGradientNorm > 0, "TrainingSettings: maxGradientNorm must be positive, got \(maxGradientNorm)") }
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.schedule = schedule
        self.maxGradientNorm = maxGradientNorm
        self.seed = seed
    }

    /// The seed of one batch's dropout masks: a mix of the run's seed, the epoch and the batch, so a resumed
    /// run draws the masks of an uninterrupted one.
    public func batchSeed(epoch: Int, batch: Int) -> UInt64 {
        var x = seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(batch) &* 0xBF58_476D_1CE4_E5B9)
        x = (x ^ (x >> 31)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 29)
    }
}
