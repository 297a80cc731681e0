import ArgumentParser
import BackpropNN
import Foundation

/// The kind of network `--model` names.
public enum ModelKind: String, ExpressibleByArgument, CaseIterable {
    /// A multilayer perceptron of `--layers`.
    case mlp
    /// The built-in small convolutional network.
    case cnn
    /// A character language model: a GPT-style Transformer.
    case transformer
    /// A character language model: an LSTM.
    case lstm
    /// A character language model: a GRU.
    case gru
    /// A character language model: a tanh RNN.
    case rnn

    /// The language model this names, or nil for a classifier.
    public var languageModel: LanguageModelKind? { LanguageModelKind(rawValue: rawValue) }
}

/// Checks that `data` fits the trainer's model (after a resume, or for `evaluate`, the data must be like
/// what the model was trained on): the feature count, and every label a class of the model.
public func checkDataFits(_ data: Dataset<Float>, named name: String, _ trainer: ClassifierTrainer<Float>) throws {
    guard data.featureCount == trainer.inputSize else {
        throw UserError("the \(name) data has \(data.featureCount) features per example, the model expects \(trainer.inputSize)")
    }
    if let bad = data.labels.first(where: { $0 >= trainer.classCount }) {
        throw UserError("the \(name) data has label \(bad), the model has \(trainer.classCount) classes")
    }
}

/// Parses `128,64` into widths.
public func parseWidths(_ text: String) throws -> [Int] {
    if text.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let widths = parts.compactMap { Int($0) }
    guard widths.count == parts.count, widths.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }) else {
        throw UserError("--layers: expected comma-separated positive widths such as 128,64, got '\(text)'")
    }
    return widths
}

/// Parses an activation name.
public func parseActivation(_ text: String) throws -> Activation {
    guard let activation = Activation(rawValue: text.lowercased()) else {
        throw UserError("--activation: unknown '\(text)'; choose one of \(Activation.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return activation
}

/// Parses an optimizer name.
public func parseOptimizer(_ text: String) throws -> OptimizerChoice {
    guard let choice = OptimizerChoice(rawValue: text.lowercased()) else {
        throw UserError("--optimizer: unknown '\(text)'; choose one of \(OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return choice
}

/// Parses a schedule.
public func parseSchedule(_ text: String, epochs: Int) throws -> LearningRateSchedule {
    guard let schedule = LearningRateSchedule(parsing: text, totalEpochs: epochs) else {
        throw UserError("--schedule: cannot read '\(text)'; use constant, step:EPOCHS:FACTOR, exponential:FACTOR or cosine[:MIN]")
    }
    return schedule
}

