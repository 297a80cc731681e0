/// Everything that decides a language-model training run besides the text: the model's shape, the
/// optimizer, the schedule and the seed. Two runs with equal configurations on the same text give the same
/// numbers.
public struct LanguageModelTrainingConfiguration: Sendable, Equatable {
    /// The model's shape.
    public var model: LanguageModelConfiguration
    /// Passes over the training text (see `stepsPerEpoch`).
    public var epochs: Int
    /// Windows per gradient step.
    public var batchSize: Int
    /// Which optimizer updates the parameters.
    public var optimizer: OptimizerChoice
    /// The base learning rate.
    public var learningRate: Double
    /// How the learning rate changes from epoch to epoch.
    public var schedule: LearningRateSchedule
    /// Clip gradients to this global norm before each update (nil for no clipping).
    public var maxGradientNorm: Double?
    /// Seeds the initial weights, the windows' order and dropout.
    public var seed: UInt64
    /// At most this many steps make an epoch (nil: every window of the training text once).
    public var stepsPerEpoch: Int?
    /// How the text was read (a word list generates one word per line).
    public var textShape: TextCorpus.Shape

    /// Creates a configuration; the defaults are the character Transformer's: AdamW at 1e-3, batches of 32.
    public init(
        model: LanguageModelConfiguration, epochs: Int = 5, batchSize: Int = 32, optimizer: OptimizerChoice = .adamw,
        learningRate: Double = 1e-3, schedule: LearningRateSchedule = .constant, maxGradientNorm: Double? = nil,
        seed: UInt64 = 0, stepsPerEpoch: Int? = nil, textShape: TextCorpus.Shape = .text
    ) {
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.schedule = schedule
        self.maxGradientNorm = maxGradientNorm
        self.seed = seed
        self.stepsPerEpoch = stepsPerEpoch
        self.textShape = textShape
    }

    /// The configuration as checkpoint metadata; `init(metadata:)` reads it back.
    public var metadata: [String: String] {
        var entries = model.metadata
        entries.merge([
            "epochs": "\(epochs)", "batch_size": "\(batchSize)", "optimizer": optimizer.rawValue,
            "learning_rate": "\(learningRate)", "schedule": schedule.textDescription, "seed": "\(seed)",
            "text_shape": textShape.rawValue,
        ]) { $1 }
        if let maxGradientNorm { entries["max_gradient_norm"] = "\(maxGradientNorm)" }
        if let stepsPerEpoch { entries["steps_per_epoch"] = "\(stepsPerEpoch)" }
        return entries
    }

    /// Reads a configuration written by `metadata`; nil when an entry is missing or malformed.
    public init?(metadata: [String: String]) {
        guard let model = LanguageModelConfiguration(metadata: metadata),
            let epochs = metadata["epochs"].flatMap(Int.init), epochs >= 0,
            let batchSize = metadata["batch_size"].flatMap(Int.init), batchSize > 0,
            let optimizer = metadata["optimizer"].flatMap(OptimizerChoice.init(rawValue:)),
            let learningRate = metadata["learning_rate"].flatMap(Double.init), learningRate > 0,
            let seed = metadata["seed"].flatMap(UInt64.init),
            let schedule = metadata["schedule"].flatMap({ LearningRateSchedule(parsing: $0, totalEpochs: epochs) }),
            let textShape = metadata["text_shape"].flatMap(TextCorpus.Shape.init(rawValue:))
        else { return nil }
        let steps = metadata["steps_per_epoch"].flatMap(Int.init)
        if metadata["steps_per_epoch"] != nil, (steps ?? 0) < 1 { return nil }
        self.init(
            model: model, epochs: epochs, batchSize: batchSize, optimizer: optimizer, learningRate: learningRate,
            schedule: schedule, maxGradientNorm: metadata["max_gradient_norm"].flatMap(Double.init), seed: seed,
            stepsPerEpoch: steps, textShape: textShape)
    }
}
