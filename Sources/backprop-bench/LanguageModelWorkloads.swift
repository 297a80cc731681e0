import BackpropNN
import Foundation

// Workloads of issue #22 (sequences and language): one training step of a character language model, written
// as a user would with the library's trainer (AdamW, float32, mean cross-entropy of the next character).

/// One AdamW step of a character language model on a fixed batch of 32 windows of 64 random characters
/// from a vocabulary of 65 (the size of Shakespeare's characters in nanoGPT's example).
final class BenchLanguageModel {
    var trainer: LanguageModelTrainer<Float>
    let inputs: [Int], targets: [Int]

    init(_ model: LanguageModelConfiguration) {
        let vocabulary = try! Vocabulary(characters: (0..<65).map { Unicode.Scalar(UInt8(48 + $0)) })
        trainer = LanguageModelTrainer(
            configuration: LanguageModelTrainingConfiguration(model: model, batchSize: 32, optimizer: .adamw, learningRate: 1e-3),
            vocabulary: vocabulary)
        var generator = SeededGenerator(seed: 0)
        let windows = (0..<32).map { _ in (0...64).map { _ in Int(generator.next() % 65) } }
        inputs = windows.flatMap { $0.dropLast() }
        targets = windows.flatMap { $0.dropFirst() }
    }

    /// Forward, backward and the AdamW update; returns the loss before the update.
    func step() -> Double {
        trainer.step(inputs: inputs, targets: targets, batch: 32, context: ForwardContext(mode: .training)).loss
    }
}

/// The language-model workloads by name.
func languageModelWorkloads() -> [String: BenchWorkload] {
    var all: [String: BenchWorkload] = [:]
    let shapes: [(String, LanguageModelConfiguration, Int)] = [
        ("lm-step", LanguageModelConfiguration(kind: .transformer, vocabularySize: 65, context: 64, layers: 2, width: 128, heads: 4), 20),
        ("lstm-lm-step", LanguageModelConfiguration(kind: .lstm, vocabularySize: 65, context: 64, layers: 1, width: 256), 20),
    ]
    for (name, model, runs) in shapes {
        all[name] = BenchWorkload(
            name: name, runs: runs, warmUp: 5,
            prepare: {
                let bench = BenchLanguageModel(model)
                return bench.step
            },
            check: { last in
                // Random characters: ln 65 ≈ 4.17 at initialisation; the fixed batch is being learned.
                (last.isFinite && last < 4.0, "loss after \(runs + 5) AdamW steps on one batch \(last) (ln 65 ≈ 4.174 at initialisation)")
            })
    }
    return all
}
