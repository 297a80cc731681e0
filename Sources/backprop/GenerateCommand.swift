import ArgumentParser
import BackpropCommandLine
import BackpropNN
import Foundation

/// `backprop generate`: continues a prompt with a character language model trained by `backprop train --model
/// transformer|lstm|gru|rnn`.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with a character language model saved by backprop train --model transformer|lstm|gru|rnn.",
        discussion: """
            Prints the prompt and its continuation. --temperature 0 picks the most likely character every time \
            (greedy); higher temperatures sample more freely, reproducibly for a given --seed. For a model of a \
            word list, the default prompt is a line break and the output one invented word per line.
            """)

    @Option(help: "The checkpoint (safetensors) written by backprop train.")
    var model: String

    @Option(help: "The text to continue (default: a line break, the start of a word for a word-list model).")
    var prompt: String?

    @Option(help: "Characters to generate.")
    var length: Int = 200

    @Option(help: "0 for greedy decoding; otherwise the softmax temperature of the sampling.")
    var temperature: Double = 0.8

    @Option(help: "Seed of the sampling.")
    var seed: UInt64 = 0

    /// `--memory-limit`.
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        guard length >= 0, length <= 10_000_000 else { throw UserError("--length must lie in 0...10000000, got \(length)") }
        guard temperature >= 0, temperature.isFinite else { throw UserError("--temperature must be a non-negative number, got \(temperature)") }
        // The checkpoint is measured (its size and header) before it is read, as train's --resume is.
        try checkCheckpointMemory(model, flag: "--model", budget: try memory.budget(), otherBytes: 0)
        let checkpoint = try loadCheckpoint(model)
        let trainer: LanguageModelTrainer<Float>
        do { trainer = try LanguageModelTrainer<Float>(resumingFrom: checkpoint) } catch let error as CheckpointError {
            throw UserError("--model \(model): \(error.description); backprop generate reads the checkpoints of backprop train --model transformer, lstm, gru or rnn")
        }
        let start = prompt ?? "\n"
        let text: String
        do { text = try trainer.generate(prompt: start, length: length, temperature: temperature, seed: seed) } catch let error as DataError {
            throw UserError("--prompt: \(error.description)")
        }
        print(prompt == nil ? text : start + text)
    }
}
