import ArgumentParser
import BackpropNN
import Foundation

/// The `--memory-limit` flag of `train` (classifiers and language models), `evaluate`, `predict` and `generate`.
public struct MemoryOptions: ParsableArguments {
    /// Options with their defaults (ArgumentParser fills them from the command line).
    public init() {}

    @Option(help: ArgumentHelp(
        "The most memory the data and the model may take, estimated before they are read or built: a number of bytes with an optional K, M, G or T (powers of 1024). Default: \(MemoryBudget.defaultLimit).",
        valueName: "size"))
    var memoryLimit: String = MemoryBudget.defaultLimit

    /// The budget the flag sets.
    public func budget() throws -> MemoryBudget { try MemoryBudget(parsing: memoryLimit) }
}

/// How much memory a command may take, and the estimates it is checked against before anything large is
/// read, decompressed or allocated: a small file that describes gigabytes (a gzip bomb whose header tells the
/// truth, a label of 1048575 making 2^20 classes, three million CSV columns) gets a message naming the flag,
/// not an exhausted machine.
///
/// The estimates, measured on this tool: about 28 bytes per value of a CSV file (parsed as doubles, held as
/// floats, normalised and split), 12 bytes per value of an IDX file plus its own width; per parameter 8 bytes
/// for SGD (weights and gradients), 24 with one optimizer buffer (momentum, RMSProp), 36 for Adam (its two
/// moments and their temporaries); and four floats per activation of a training batch.
public struct MemoryBudget: Sendable {
    /// The limit when none is given: enough for MNIST's 60 000 images and any of the tool's examples, well
    /// below what a laptop has.
    public static let defaultLimit = "4G"

    /// The limit, in bytes.
    public let bytes: Int
    /// The limit as the user gave it.
    public let text: String

    /// Reads `2G`, `512M`, `1.5G` or a number of bytes.
    ///
    /// - Throws: `UserError` for anything else, or a limit that is not positive.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024, "T": 1024 * 1024 * 1024 * 1024]
        var number = Substring(trimmed.hasSuffix("B") ? String(trimmed.dropLast()) : trimmed)
        var scale = 1.0
        if let last = number.last, let unit = units[last] {
            scale = unit
            number = number.dropLast()
        }
        guard let value = Double(number), value > 0, value * scale < 9e18, value * scale >= 1 else {
            throw UserError("--memory-limit: expected a size such as 4G, 512M or 1000000 (bytes), got '\(text)'")
        }
        bytes = Int(value * scale)
        self.text = text
    }

    /// Throws a user error when `needed` bytes exceed the limit, or when the machine cannot give the largest
    /// single block of them (`largestBlock`): a failed allocation is a message, not a crash.
    ///
    /// - Parameters:
    ///   - needed: the estimate, in bytes.
    ///   - what: what needs it ("training MLP 64-128-10 on 1797 examples").
    ///   - advice: what the user can change besides the limit.
    ///   - largestBlock: the largest single allocation among them, tried once (and freed) when given.
    public func check(_ needed: Int, for what: String, advice: String = "", largestBlock: Int? = nil) throws {
        guard needed <= bytes else {
            throw UserError(
                "\(what) needs about \(formatBytes(needed)), more than --memory-limit \(text) (\(formatBytes(bytes))) allows"
                    + (advice.isEmpty ? "" : "; \(advice)") + "; give a larger --memory-limit if the machine has the memory")
        }
        if let block = largestBlock, block > 64 << 20 {
            guard let memory = malloc(block) else {
                throw UserError("\(what) needs a block of \(formatBytes(block)) that this machine cannot allocate now (out of memory)")
            }
            free(memory)
        }
    }
}

/// A byte count for people: `812 bytes`, `14.2 KB`, `3.1 MB`, `8.8 GB` (powers of 1024).
public func formatBytes(_ count: Int) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(count) bytes" : String(format: value < 10 ? "%.1f %@" : "%.0f %@", value, units[unit])
}

/// A sum or product of byte counts that saturates at `Int.max` instead of overflowing.
public func saturating(_ values: [Int], multiply: Bool = false) -> Int {
    values.reduce(multiply ? 1 : 0) { total, value in
        let (result, overflow) = multiply ? total.multipliedReportingOverflow(by: value) : total.addingReportingOverflow(value)
        return overflow ? Int.max : result
    }
}

/// Estimates of what the tool's commands take.
enum MemoryEstimate {
    /// Bytes per value of a CSV file read for training or evaluation.
    static let csvValue = 28
    /// Bytes per value of IDX data read, besides the value's own width in the file.
    static let idxValue = 12

    /// Floats kept per parameter while training with `optimizer` (weights, gradients, buffers, temporaries).
    static func floatsPerParameter(_ optimizer: OptimizerChoice) -> Int {
        switch optimizer {
        case .sgd: return 2
        case .momentum, .nesterov, .rmsprop: return 6
        case .adam, .adamw: return 9
        }
    }

    /// The model's parameters and the values one example's forward pass holds, or nil when they overflow or
    /// the network does not fit.
    static func modelSize(_ configuration: TrainingConfiguration, inputSize: Int, classCount: Int) -> (parameters: Int, activations: Int, largest: Int)? {
        if let architecture = configuration.architecture {
            let shape = configuration.exampleShape ?? [inputSize]
            guard let weights = try? architecture.weightCount(exampleShape: shape, classCount: classCount),
                let activations = try? architecture.activationCount(exampleShape: shape, classCount: classCount)
            else { return nil }
            return (weights, activations, weights)
        }
        let widths = [inputSize] + configuration.hiddenWidths + [classCount]
        guard let parameters = configuration.multilayerPerceptronParameterCount(inputSize: inputSize, classCount: classCount) else { return nil }
        let largest = zip(widths, widths.dropFirst()).map { saturating([$0, $1], multiply: true) }.max() ?? 0
        return (parameters, saturating(widths), largest)
    }

    /// Bytes per byte of a text read for a language model: the file, its characters, their tokens and the
    /// split's copies.
    static let textByte = 16

    /// Bytes to train a character language model of `configuration` on batches of `batch` windows: its
    /// parameters with the optimizer's buffers, and per window every layer's activations with their gradients
    /// (a Transformer's include each head's context × context attention weights) and the logits; `largest`
    /// is the largest single block, a batch's attention weights or logits.
    static func languageModelBytes(_ configuration: LanguageModelTrainingConfiguration, batch: Int) -> (total: Int, largest: Int) {
        let model = configuration.model
        let (context, width, vocabulary) = (model.context, model.width, model.vocabularySize)
        let parameters = saturating([model.parameterCount, floatsPerParameter(configuration.optimizer), 4], multiply: true)
        let perLayer: Int, block: Int
        switch model.kind {
        case .transformer:
            let attention = saturating([model.heads, context, context], multiply: true)
            perLayer = saturating([saturating([context, width, 48], multiply: true), saturating([attention, 8], multiply: true)])
            block = attention
        case .lstm, .gru, .rnn:
            let gates = model.kind == .lstm ? 4 : model.kind == .gru ? 3 : 1
            perLayer = saturating([context, width, 4 * gates + 8], multiply: true)
            block = saturating([context, width, gates], multiply: true)
        }
        let logits = saturating([context, vocabulary], multiply: true)
        let perWindow = saturating([
            saturating([model.layers, perLayer], multiply: true), saturating([context, width, 4], multiply: true),
            saturating([logits, 4], multiply: true),
        ])
        let windows = Swift.min(batch, 1 << 40)
        return (
            saturating([parameters, saturating([windows, perWindow, 4], multiply: true)]),
            saturating([windows, Swift.max(block, logits), 4], multiply: true)
        )
    }

    /// Bytes to train (`training`) or evaluate a model of `configuration` on batches of `batch` examples.
    static func modelBytes(_ configuration: TrainingConfiguration, inputSize: Int, classCount: Int, batch: Int, training: Bool) -> (total: Int, largest: Int) {
        guard let size = modelSize(configuration, inputSize: inputSize, classCount: classCount) else { return (Int.max, Int.max) }
        let floats = training ? floatsPerParameter(configuration.optimizer) : 1
        let parameters = saturating([size.parameters, floats, 4], multiply: true)
        // A training batch: values, gradients, saved values, temporaries; evaluation in slices of 512.
        let activations = training
            ? saturating([Swift.min(batch, 1 << 40), size.activations, 16], multiply: true)
            : saturating([Swift.min(batch, 512), size.activations, 8], multiply: true)
        let largest = saturating([size.largest, 4], multiply: true)
        return (saturating([parameters, activations]), Swift.max(largest, saturating([Swift.min(batch, 512), classCount, 4], multiply: true)))
    }
}
