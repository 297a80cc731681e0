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
    // Diagnostic, not a peer workload: the matrix products of lm-step alone, each timed as a median and shown
    // with its rate, to see how much of a step is the GEMM and at what speed (scripts/peers_language.py --gemms
    // times the same products in PyTorch).
    let pieces = PieceTimes()
    all["lm-gemms"] = BenchWorkload(
        name: "lm-gemms", runs: 20, warmUp: 3,
        prepare: {
            func random(_ shape: [Int], _ seed: UInt64) -> Tensor<Float> { Tensor.randomNormal(shape: shape, seed: seed) }
            let x = random([2048, 128], 1), hidden = random([2048, 512], 2), w = random([128, 128], 3), w1 = random([512, 128], 4)
            let q = random([128, 64, 32], 5), k = random([128, 64, 32], 6), weights = random([128, 64, 64], 7)
            return {
                pieces.time("x·Wᵀ 2048x128x128") { _ = matmul(x, w, transposeB: true) }
                pieces.time("x·W1ᵀ 2048x128→512") { _ = matmul(x, w1, transposeB: true) }
                pieces.time("h·W2ᵀ 2048x512→128") { _ = matmul(hidden, w1) }
                pieces.time("gᵀ·x 512x2048x128") { _ = matmul(hidden, x, transposeA: true) }
                pieces.time("q·kᵀ 128x(64x32x64)") { _ = matmul(q, k, transposeB: true) }
                pieces.time("w·v 128x(64x64x32)") { _ = matmul(weights, k) }
                pieces.time("vᵀ·wᵀ 128x(32x64x64)") { _ = matmul(k, weights, transposeA: true, transposeB: true) }
                pieces.time("wᵀ·g 128x(64x64x32)") { _ = matmul(weights, k, transposeA: true) }
                pieces.time("g·vᵀ 128x(64x32x64)") { _ = matmul(q, k, transposeB: true) }
                return 0
            }
        },
        check: { _ in (true, "medians (ms): " + pieces.medians) })
    // The same for lstm-lm-step's products: per step, the hidden state times the hidden weights and the
    // gradient back through them; per sequence, the input's share and the weights' gradients.
    let lstmPieces = PieceTimes()
    all["lstm-gemms"] = BenchWorkload(
        name: "lstm-gemms", runs: 20, warmUp: 3,
        prepare: {
            func random(_ shape: [Int], _ seed: UInt64) -> Tensor<Float> { Tensor.randomNormal(shape: shape, seed: seed) }
            let h = random([32, 256], 1), w = random([1024, 256], 2), g = random([32, 1024], 3)
            let x = random([2048, 256], 4), gates = random([2048, 1024], 5)
            return {
                lstmPieces.time("64 steps h·Whhᵀ 32x256→1024") { for _ in 0..<64 { _ = matmul(h, w, transposeB: true) } }
                lstmPieces.time("64 steps g·Whh 32x1024→256") { for _ in 0..<64 { _ = matmul(g, w) } }
                lstmPieces.time("x·Wihᵀ 2048x256→1024") { _ = matmul(x, w, transposeB: true) }
                lstmPieces.time("gᵀ·x 1024x2048x256") { _ = matmul(gates, x, transposeA: true) }
                lstmPieces.time("g·Wih 2048x1024→256") { _ = matmul(gates, w) }
                return 0
            }
        },
        check: { _ in (true, "medians (ms): " + lstmPieces.medians) })
    return all
}
