import BackpropNN
import Foundation
import BackpropCommandLine

/// Loads the classifier stored in a checkpoint for `evaluate` and `predict`: a run saved by
/// `backprop train`, or a plain state dict of an MLP saved by PyTorch (`nn.Sequential` of `Linear` layers
/// with one activation between them, keys `0.weight`, `0.bias`, `2.weight`, …), whose widths are read from
/// the weight shapes.
///
/// Reading the checkpoint (see `checkCheckpointMemory`) must fit `budget` with the `otherBytes` the command
/// needs besides.
func loadClassifier(_ path: String, activation: String, budget: MemoryBudget, otherBytes: Int = 0) throws -> (ClassifierTrainer<Float>, Checkpoint) {
    try checkCheckpointMemory(path, flag: "--model", budget: budget, otherBytes: otherBytes)
    let checkpoint = try loadCheckpoint(path)
    if checkpoint.metadata["format"] != nil {
        do {
            let trainer = try ClassifierTrainer<Float>(resumingFrom: checkpoint)
            if let assumption = trainer.preprocessingAssumption { printWarning("--model \(path): \(assumption)") }
            return (trainer, checkpoint)
        } catch let error as CheckpointError {
            throw UserError("--model \(path): \(error.description)")
        }
    }
    // A plain state dict: find the Linear layers 0, 2, 4, … and chain their shapes.
    var widths: [Int] = []
    var index = 0
    while checkpoint.contains("\(index).weight") {
        let weight = try checkpoint.tensor(named: "\(index).weight", as: Float.self)
        guard weight.rank == 2 else {
            throw UserError("--model \(path): \(index).weight has shape \(weight.shape), a Linear weight is [out, in]")
        }
        if widths.isEmpty { widths.append(weight.shape[1]) }
        guard weight.shape[1] == widths.last else {
            throw UserError("--model \(path): \(index).weight takes \(weight.shape[1]) inputs, the layer before gives \(widths.last!)")
        }
        widths.append(weight.shape[0])
        index += 2
    }
    guard widths.count >= 2 else {
        throw UserError("--model \(path): neither a `backprop train` checkpoint nor an MLP state dict (no 0.weight; tensors: \(checkpoint.names.prefix(8).joined(separator: ", ")))")
    }
    let configuration = TrainingConfiguration(
        hiddenWidths: Array(widths.dropFirst().dropLast()), activation: try parseActivation(activation))
    // A [0, 64] weight, say, is a valid tensor but no layer: check the widths before building anything.
    do {
        try ClassifierTrainer<Float>.validate(configuration: configuration, inputSize: widths[0], classCount: widths.last!)
    } catch let error as ConfigurationError {
        throw UserError("--model \(path): the Linear layers' shapes (widths \(widths.map(String.init).joined(separator: "-"))) make no usable MLP: \(error.setting) \(error.problem)")
    }
    var trainer = ClassifierTrainer<Float>(configuration: configuration, inputSize: widths[0], classCount: widths.last!)
    do {
        try checkpoint.apply(to: &trainer.model)
        // A state dict takes its inputs as they are, unless it carries a normalization or preprocessing.
        trainer.inputPreprocessing = try InputPreprocessing<Float>.recorded(in: checkpoint).preprocessing
    } catch let error as CheckpointError {
        throw UserError("--model \(path): \(error.description)")
    }
    return (trainer, checkpoint)
}

/// Prints `message` to standard error as a warning: something assumed that the user should know.
func printWarning(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}
