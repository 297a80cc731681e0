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
        guard let configuration = try? TrainingConfiguration(validatingMetadata: metadata) else { return nil }
        self = configuration
    }

    /// Reads a configuration written by `metadata`, checking each entry's form (integers, numbers, names);
    /// `validate(for:)` then checks the values.
    ///
    /// - Throws: `ConfigurationError` naming the first entry that is missing or malformed.
    public init(validatingMetadata metadata: [String: String]) throws {
        func entry<T>(_ key: String, _ expected: String, _ parse: (String) -> T?) throws -> T {
            guard let text = metadata[key] else { throw ConfigurationError(setting: key, problem: "is missing") }
            guard let value = parse(text) else {
                throw ConfigurationError(setting: key, problem: "must be \(expected), got '\(text.prefix(40))'")
            }
            return value
        }
        let widthsText = try entry("hidden_widths", "comma-separated widths") { $0 }
        let activation = try entry("activation", "one of \(Activation.allCases.map(\.rawValue).joined(separator: ", "))", Activation.init(rawValue:))
        let dropout = try entry("dropout", "a number", Double.init)
        let epochs = try entry("epochs", "an integer", Int.init)
        let batchSize = try entry("batch_size", "an integer", Int.init)
        let optimizer = try entry("optimizer", "one of \(OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", "))", OptimizerChoice.init(rawValue:))
        let learningRate = try entry("learning_rate", "a number", Double.init)
        let seed = try entry("seed", "an integer from 0 to 2^64 - 1", UInt64.init)
        let schedule = try entry("schedule", "constant, step:EPOCHS:FACTOR, exponential:FACTOR or cosine[:MIN]") {
            LearningRateSchedule(parsing: $0, totalEpochs: epochs)
        }
        let widthParts = widthsText.isEmpty ? [] : widthsText.split(separator: ",", omittingEmptySubsequences: false)
        let widths = widthParts.compactMap { Int($0) }
        guard widths.count == widthParts.count, widths.allSatisfy({ $0 > 0 }) else {
            throw ConfigurationError(setting: "hidden_widths", problem: "must be comma-separated positive widths, got '\(widthsText.prefix(40))'")
        }
        var maxGradientNorm: Double? = nil
        if metadata["max_gradient_norm"] != nil { maxGradientNorm = try entry("max_gradient_norm", "a number", Double.init) }
        self.init(
            hiddenWidths: widths, activation: activation, dropout: dropout, epochs: epochs, batchSize: batchSize,
            optimizer: optimizer, learningRate: learningRate, schedule: schedule, maxGradientNorm: maxGradientNorm, seed: seed)
        if let text = metadata["architecture"] {
            do { architecture = try ArchitectureSpecification(parsing: text) } catch let error as ArchitectureError {
                throw ConfigurationError(setting: "architecture", problem: "cannot be read: \(error.message)")
            }
        }
        if let text = metadata["example_shape"] {
            let parts = text.split(separator: "x", omittingEmptySubsequences: false)
            let dimensions = parts.compactMap { Int($0) }
            guard !dimensions.isEmpty, dimensions.count == parts.count, dimensions.allSatisfy({ $0 > 0 }) else {
                throw ConfigurationError(setting: "example_shape", problem: "must be positive dimensions such as 1x28x28, got '\(text.prefix(40))'")
            }
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
