/// Everything that decides a classifier training run: the model's shape, the optimizer, the schedule and
/// the seed. Two runs with equal configurations on the same data give the same numbers.
public struct TrainingConfiguration: Sendable, Equatable {
    /// The hidden layers' widths (the input and output widths come from the data).
    public var hiddenWidths: [Int]
    /// The hidden activation.
    public var activation: Activation
    /// Dropout probability after each hidden activation (0 for none).
    public var dropout: Double
    /// Passes over the training set.
    public var epochs: Int
    /// Examples per gradient step.
    public var batchSize: Int
    /// Which optimizer updates the parameters.
    public var optimizer: OptimizerChoice
    /// The base learning rate.
    public var learningRate: Double
    /// How the learning rate changes from epoch to epoch.
    public var schedule: LearningRateSchedule
    /// Clip gradients to this global norm before each update (nil for no clipping).
    public var maxGradientNorm: Double?
    /// Seeds the initial weights, the shuffling and dropout.
    public var seed: UInt64
    /// A network other than the MLP of `hiddenWidths` (a CNN, say), or nil for the MLP.
    public var architecture: ArchitectureSpecification?
    /// The shape of one example for `architecture` (`[channels, height, width]` for images), or nil for
    /// flat feature vectors.
    public var exampleShape: [Int]?

    /// Creates a configuration; the defaults are the digits set-up: one hidden layer of 128 ReLU units,
    /// Adam at 1e-3, batches of 32, 30 epochs.
    public init(
        hiddenWidths: [Int] = [128], activation: Activation = .relu, dropout: Double = 0, epochs: Int = 30,
        batchSize: Int = 32, optimizer: OptimizerChoice = .adam, learningRate: Double = 1e-3,
        schedule: LearningRateSchedule = .constant, maxGradientNorm: Double? = nil, seed: UInt64 = 0,
        architecture: ArchitectureSpecification? = nil, exampleShape: [Int]? = nil
    ) {
        self.architecture = architecture
        self.exampleShape = exampleShape
        self.hiddenWidths = hiddenWidths
        self.activation = activation
        self.dropout = dropout
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.schedule = schedule
        self.maxGradientNorm = maxGradientNorm
        self.seed = seed
    }

    /// The configuration as text metadata (for checkpoints); `init(metadata:)` reads it back.
    public var metadata: [String: String] {
        var entries = [
            "hidden_widths": hiddenWidths.map(String.init).joined(separator: ","),
            "activation": activation.rawValue, "dropout": "\(dropout)", "epochs": "\(epochs)",
            "batch_size": "\(batchSize)", "optimizer": optimizer.rawValue, "learning_rate": "\(learningRate)",
            "schedule": schedule.textDescription, "seed": "\(seed)",
        ]
        if let maxGradientNorm { entries["max_gradient_norm"] = "\(maxGradientNorm)" }
        if let architecture { entries["architecture"] = architecture.description }
        if let exampleShape { entries["example_shape"] = exampleShape.map(String.init).joined(separator: "x") }
        return entries
    }

    /// Reads a configuration written by `metadata`; nil when an entry is missing or malformed.
    public init?(metadata: [String: String]) {
        guard let widthsText = metadata["hidden_widths"],
            let activation = metadata["activation"].flatMap(Activation.init(rawValue:)),
            let dropout = metadata["dropout"].flatMap(Double.init),
            let epochs = metadata["epochs"].flatMap(Int.init),
            let batchSize = metadata["batch_size"].flatMap(Int.init),
            let optimizer = metadata["optimizer"].flatMap(OptimizerChoice.init(rawValue:)),
            let learningRate = metadata["learning_rate"].flatMap(Double.init),
            let seed = metadata["seed"].flatMap(UInt64.init),
            let schedule = metadata["schedule"].flatMap({ LearningRateSchedule(parsing: $0, totalEpochs: epochs) })
        else { return nil }
        let widths = widthsText.isEmpty ? [] : widthsText.split(separator: ",").compactMap { Int($0) }
        guard widths.allSatisfy({ $0 > 0 }) else { return nil }
        self.init(
            hiddenWidths: widths, activation: activation, dropout: dropout, epochs: epochs, batchSize: batchSize,
            optimizer: optimizer, learningRate: learningRate, schedule: schedule,
            maxGradientNorm: metadata["max_gradient_norm"].flatMap(Double.init), seed: seed)
        if let text = metadata["architecture"] {
            guard let architecture = try? ArchitectureSpecification(parsing: text) else { return nil }
            self.architecture = architecture
        }
        if let text = metadata["example_shape"] {
            let dimensions = text.split(separator: "x").compactMap { Int($0) }
            guard !dimensions.isEmpty, dimensions.allSatisfy({ $0 > 0 }) else { return nil }
            exampleShape = dimensions
        }
    }

    /// A one-line description of the model: `MLP 64-128-10 (relu)` or the architecture spec.
    public func modelDescription(inputSize: Int, classCount: Int) -> String {
        if let architecture {
            let shape = (exampleShape ?? [inputSize]).map(String.init).joined(separator: "×")
            return "\(shape) → \(architecture) → linear:\(classCount)"
        }
        let widths = ([inputSize] + hiddenWidths + [classCount]).map(String.init).joined(separator: "-")
        return "MLP \(widths) (\(activation.rawValue))"
    }
}
