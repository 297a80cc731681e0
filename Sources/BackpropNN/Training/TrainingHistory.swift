/// What one epoch of training measured.
public struct EpochRecord: Sendable, Equatable {
    /// The epoch's number, from 1.
    public var epoch: Int
    /// The learning rate used during the epoch.
    public var learningRate: Double
    /// The mean training loss over the epoch's batches.
    public var trainLoss: Double
    /// The fraction of training examples classified correctly during the epoch (as the model stood at
    /// each batch).
    public var trainAccuracy: Double
    /// The loss on the held-out set after the epoch, when there is one.
    public var testLoss: Double?
    /// The accuracy on the held-out set after the epoch, when there is one.
    public var testAccuracy: Double?
    /// Wall-clock seconds the epoch's training steps took (evaluation excluded).
    public var seconds: Double

    /// Creates a record.
    public init(
        epoch: Int, learningRate: Double, trainLoss: Double, trainAccuracy: Double, testLoss: Double?,
        testAccuracy: Double?, seconds: Double
    ) {
        self.epoch = epoch
        self.learningRate = learningRate
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.seconds = seconds
    }
}
