/// A setting of a training run that cannot be used: which (by its checkpoint metadata key, e.g.
/// `learning_rate`), and why. The command-line tool names the flag instead (`--lr`).
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The metadata key of the setting (`batch_size`, `learning_rate`, `dropout`, `hidden_widths`, …).
    public var setting: String
    /// What is wrong with it, starting with a verb: "must be positive, got 0".
    public var problem: String

    /// Creates an error.
    public init(setting: String, problem: String) {
        self.setting = setting
        self.problem = problem
    }

    /// `SETTING PROBLEM`.
    public var description: String { "\(setting) \(problem)" }
}

/// The name of a scalar type in messages: "a 32-bit float" or "a 64-bit float".
func scalarName<Scalar: TensorScalar>(_: Scalar.Type) -> String {
    "a \(MemoryLayout<Scalar>.size * 8)-bit float"
}

/// A scalar type's largest finite magnitude with two significant digits, for messages: "3.4e38" for `Float`,
/// "1.8e308" for `Double`.
func largestMagnitudeText<Scalar: TensorScalar>(_: Scalar.Type) -> String {
    let largest = Double(Scalar.greatestFiniteMagnitude)
    let exponent = Int(Double.log(largest) / Double.log(10))
    let leading = (largest / Double.pow(10, Double(exponent)) * 10).rounded() / 10
    return "\(leading)e\(exponent)"
}

extension TrainingConfiguration {
    /// The widest hidden layer a configuration may ask for.
    public static let maximumWidth = 1 << 20

    /// Checks every number of the configuration before a trainer of `Scalar` uses it: each finite in `Scalar`
    /// (a learning rate of 1e39 is finite as a Double and infinite as a Float) and within the bounds the
    /// model can take; the learning rate stays finite over the whole schedule.
    ///
    /// - Throws: `ConfigurationError` naming the first setting that is not usable.
    public func validate<Scalar: TensorScalar>(for _: Scalar.Type) throws {
        let type = scalarName(Scalar.self)
        func fail(_ setting: String, _ problem: String) -> ConfigurationError {
            ConfigurationError(setting: setting, problem: problem)
        }
        /// Whether `value` is finite when held as a `Scalar`.
        func finite(_ value: Double) -> Bool { value.isFinite && Scalar(value).isFinite }
        if let bad = hiddenWidths.first(where: { !(1...Self.maximumWidth).contains($0) }) {
            throw fail("hidden_widths", "must be widths from 1 to \(Self.maximumWidth), got \(bad)")
        }
        guard finite(dropout), dropout >= 0, dropout < 1 else { throw fail("dropout", "must lie in [0, 1), got \(dropout)") }
        guard epochs >= 0 else { throw fail("epochs", "must not be negative, got \(epochs)") }
        guard batchSize > 0 else { throw fail("batch_size", "must be positive, got \(batchSize)") }
        guard finite(learningRate), learningRate > 0 else {
            throw fail("learning_rate", "must be a positive number finite as \(type), got \(learningRate)")
        }
        guard Scalar(learningRate) > 0 else { throw fail("learning_rate", "is 0 as \(type): \(learningRate) is too small") }
        if let maxGradientNorm {
            guard finite(maxGradientNorm), maxGradientNorm > 0, Scalar(maxGradientNorm) > 0 else {
                throw fail("max_gradient_norm", "must be a positive number finite as \(type), got \(maxGradientNorm)")
            }
        }
        switch schedule {
        case .constant: break
        case .step(let stepEpochs, let factor):
            guard stepEpochs > 0, finite(factor), factor > 0 else {
                throw fail("schedule", "step:EPOCHS:FACTOR needs positive epochs and a positive finite factor, got \(schedule.textDescription)")
            }
        case .exponential(let factor):
            guard finite(factor), factor > 0 else {
                throw fail("schedule", "exponential:FACTOR needs a positive finite factor, got \(schedule.textDescription)")
            }
        case .cosine(_, let minimum):
            guard finite(minimum), minimum >= 0 else {
                throw fail("schedule", "cosine:MIN needs a finite minimum of at least 0, got \(schedule.textDescription)")
            }
        }
        // Step and exponential schedules are monotone, cosine stays between its ends: the first and the last
        // epoch's rates bound every other.
        for epoch in [0, Swift.max(epochs - 1, 0)] {
            let rate = schedule.learningRate(base: learningRate, epoch: epoch)
            guard finite(rate) else {
                throw fail("schedule", "\(schedule.textDescription) makes the learning rate of epoch \(epoch + 1) \(rate), not finite as \(type)")
            }
        }
        if let exampleShape {
            guard !exampleShape.isEmpty, exampleShape.allSatisfy({ $0 > 0 }), checkedProduct(exampleShape) != nil else {
                throw fail("example_shape", "must be positive dimensions whose product fits, got \(exampleShape)")
            }
        }
    }

    /// The parameters of the MLP this configuration describes between `inputSize` features and `classCount`
    /// classes (weights and biases), or nil when the count overflows.
    public func multilayerPerceptronParameterCount(inputSize: Int, classCount: Int) -> Int? {
        let widths = [inputSize] + hiddenWidths + [classCount]
        var total = 0
        for (inputs, outputs) in zip(widths, widths.dropFirst()) {
            guard let weights = checkedProduct([inputs + 1, outputs]) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(weights)
            guard !overflow else { return nil }
            total = sum
        }
        return total
    }
}

/// The product of `factors`, or nil when it overflows (or a factor is negative).
func checkedProduct(_ factors: [Int]) -> Int? {
    var product = 1
    for factor in factors {
        guard factor >= 0 else { return nil }
        let (next, overflow) = product.multipliedReportingOverflow(by: factor)
        guard !overflow else { return nil }
        product = next
    }
    return product
}

extension ClassifierTrainer {
    /// Checks, without allocating anything, that a trainer of this configuration for `inputSize` features
    /// and `classCount` classes can be built and trained: the configuration's numbers (see
    /// `TrainingConfiguration.validate(for:)`), positive sizes, and a network whose parameters and
    /// activations stay within `ArchitectureSpecification.sizeLimit`. `init(configuration:inputSize:classCount:)`
    /// traps on what this reports.
    ///
    /// - Throws: `ConfigurationError` naming the setting (`input_size`, `class_count`, `hidden_widths`,
    ///   `architecture`, …).
    public static func validate(configuration: TrainingConfiguration, inputSize: Int, classCount: Int) throws {
        try configuration.validate(for: Scalar.self)
        guard inputSize > 0 else { throw ConfigurationError(setting: "input_size", problem: "must be positive, got \(inputSize)") }
        guard classCount > 0 else { throw ConfigurationError(setting: "class_count", problem: "must be positive, got \(classCount)") }
        if let architecture = configuration.architecture {
            let shape = configuration.exampleShape ?? [inputSize]
            guard checkedProduct(shape) == inputSize else {
                throw ConfigurationError(setting: "example_shape", problem: "\(shape) does not hold the \(inputSize) input features")
            }
            do { try architecture.validate(exampleShape: shape, classCount: Swift.max(classCount, 2)) } catch let error as ArchitectureError {
                throw ConfigurationError(setting: "architecture", problem: "does not fit: \(error.message)")
            }
        } else {
            let limit = ArchitectureSpecification.sizeLimit
            let count = configuration.multilayerPerceptronParameterCount(inputSize: inputSize, classCount: classCount)
            guard let count, count <= limit else {
                let widths = ([inputSize] + configuration.hiddenWidths + [classCount]).map(String.init).joined(separator: "-")
                throw ConfigurationError(
                    setting: "hidden_widths",
                    problem: "would make an MLP \(widths) of \(count.map(String.init) ?? "too many") parameters, more than the \(limit) this tool allows")
            }
        }
    }
}
