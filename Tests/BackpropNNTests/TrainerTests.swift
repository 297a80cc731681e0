import Backprop
import BackpropNN
import Foundation
import Testing

/// A small regressor of one input: the user's model, nothing beyond its maths.
private struct Curve: Layer {
    var hidden = Linear<Float>(inputSize: 1, outputSize: 16, initialization: .glorot, seed: 1)
    var output = Linear<Float>(inputSize: 16, outputSize: 1, initialization: .glorot, seed: 2)
    func callAsFunction(_ x: Tensor<Float>, context: ForwardContext) -> Tensor<Float> { output(tanh(hidden(x))) }
}

/// Noisy sin(3x) on [-1, 1]: features [n, 1], targets [n, 1].
private func noisySine(count: Int, seed: UInt64) -> Dataset<Float> {
    var generator = SeededGenerator(seed: seed)
    let x = (0..<count).map { _ in Float(2 * generator.nextUnit() - 1) }
    let y = x.map { Float(sin(3 * Double($0)) + 0.05 * (2 * generator.nextUnit() - 1)) }
    return Dataset(features: Tensor(shape: [count, 1], scalars: x), labels: [], targets: Tensor(shape: [count, 1], scalars: y))
}

/// Next-token prediction: windows of token indices and, for each position, the token that follows.
private struct TokenBatch: TrainingBatch {
    var inputs: [Int]
    var nextTokens: [Int]
    var exampleCount: Int { inputs.count }
    func examples(_ range: Range<Int>) -> TokenBatch { TokenBatch(inputs: Array(inputs[range]), nextTokens: Array(nextTokens[range])) }
}

private struct TokenStream: TrainingData {
    var tokens: [Int]
    func batches(epoch: Int, batchSize: Int, seed: UInt64) -> [TokenBatch] {
        var generator = SeededGenerator(seed: seed &+ UInt64(epoch))
        let order = Array(0..<(tokens.count - 1)).shuffled(using: &generator)
        return stride(from: 0, to: order.count, by: batchSize).map { start in
            let positions = order[start..<Swift.min(order.count, start + batchSize)]
            return TokenBatch(inputs: positions.map { tokens[$0] }, nextTokens: positions.map { tokens[$0 + 1] })
        }
    }
    func evaluationBatches(batchSize: Int) -> [TokenBatch] {
        [TokenBatch(inputs: Array(tokens.dropLast()), nextTokens: Array(tokens.dropFirst()))]
    }
}

/// A bigram model: the logits of the next token are a row of a table.
private struct Bigram: Layer {
    var table = Embedding<Float>(weight: Tensor.zeros(shape: [4, 4]))
    func callAsFunction(_ tokens: Tensor<Float>, context: ForwardContext) -> Tensor<Float> { table(tokens, context: context) }
}

@Suite struct TrainerTests {
    @Test func fitsNoisySineWithMeanSquaredErrorAndReportsMetrics() throws {
        let train = noisySine(count: 256, seed: 1), test = noisySine(count: 64, seed: 2)
        var trainer = Trainer(
            model: Curve(), optimizer: Adam<Float>(learningRate: 0.02), settings: TrainingSettings(epochs: 40, batchSize: 32),
            loss: .meanSquaredError, metrics: [.meanAbsoluteError, .rootMeanSquaredError])
        let before = try trainer.evaluate(on: test)
        var reports = 0
        try trainer.train(on: train, evaluatingOn: test) { progress in
            reports += 1
            #expect(progress.metrics["mae"] != nil && progress.accuracy.isNaN)
        }
        let last = try #require(trainer.history.last)
        #expect(trainer.completedEpochs == 40 && reports == 40 * 8)
        #expect(last.testLoss! < before.loss / 20 && last.testLoss! < 0.02)
        #expect(abs(last.testMetrics["rmse"]! - last.testLoss!.squareRoot()) < 1e-6)
        #expect(last.testMetrics["mae"]! <= last.testMetrics["rmse"]! + 1e-9)
        #expect(last.trainLoss < trainer.history[0].trainLoss)
    }

    @Test func huberLossIsQuadraticInsideTheBandAndLinearOutside() throws {
        let predicted = Tensor<Double>([0.5, 3, -2]), expected = Tensor<Double>([0, 0, 0])
        let (value, gradient) = valueWithGradient(at: predicted) { huberLoss(predicted: $0, expected: expected, delta: 1) }
        #expect(abs(value.scalar - (0.125 + 2.5 + 1.5) / 3) < 1e-12)
        #expect(zip(gradient.scalars, [0.5 / 3, 1.0 / 3, -1.0 / 3]).allSatisfy { abs($0 - $1) < 1e-12 })

        var trainer = Trainer(
            model: Curve(), optimizer: Adam<Float>(learningRate: 0.02), settings: TrainingSettings(epochs: 5, batchSize: 32),
            loss: .huber(delta: 0.5))
        let data = noisySine(count: 128, seed: 3)
        let start = try trainer.evaluate(on: data).loss
        try trainer.train(on: data)
        let end = try trainer.evaluate(on: data).loss
        #expect(end < start)
    }

    @Test func trainsANextTokenLossOnBatchesOfItsOwn() throws {
        let accuracy = TrainingMetric<Float, TokenBatch>(name: "accuracy") { logits, batch in
            (Double(zip(predictedClasses(logits), batch.nextTokens).filter { $0 == $1 }.count), Double(batch.exampleCount))
        }
        let loss = TrainingLoss<Bigram, TokenBatch>(
            output: { model, batch, context in model(Tensor(batch.inputs.map(Float.init)), context: context) },
            loss: { logits, batch in softmaxCrossEntropy(logits: logits, labels: batch.nextTokens) })
        let text = TokenStream(tokens: Array((0..<60).map { [0, 1, 2, 3, 1][$0 % 5] }))
        var trainer = Trainer(
            model: Bigram(), optimizer: Adam<Float>(learningRate: 0.1), settings: TrainingSettings(epochs: 30, batchSize: 8),
            loss: loss, metrics: [accuracy])
        try trainer.train(on: text, evaluatingOn: text)
        // 0→1, 2→3, 3→1 are certain; after 1 comes 2 or 0 (one half each): 4 of 5 positions predictable.
        let last = try #require(trainer.history.last)
        #expect(abs(last.testMetrics["accuracy"]! - 47.0 / 59) < 0.05 && last.testLoss! < 0.5)
    }

    @Test func stopsAtTheFirstBatchThatDiverges() {
        var trainer = Trainer(
            model: Curve(), optimizer: SGD<Float>(learningRate: 1e30), settings: TrainingSettings(epochs: 3, batchSize: 16),
            loss: .meanSquaredError)
        do {
            try trainer.train(on: noisySine(count: 64, seed: 4))
            Issue.record("expected TrainingDiverged")
        } catch let diverged as TrainingDiverged {
            #expect(diverged.epoch == 1 && diverged.batch > 1 && trainer.history.isEmpty)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func resumesFromItsCheckpointAsIfUninterrupted() throws {
        let data = noisySine(count: 96, seed: 5)
        func makeTrainer(epochs: Int, seed: UInt64 = 7) -> Trainer<Curve, Dataset<Float>> {
            Trainer(
                model: Curve(), optimizer: Adam<Float>(learningRate: 0.01),
                settings: TrainingSettings(epochs: epochs, batchSize: 16, schedule: .step(epochs: 1, factor: 0.5), seed: seed),
                loss: .meanSquaredError, metrics: [.meanAbsoluteError])
        }
        var uninterrupted = makeTrainer(epochs: 3)
        try uninterrupted.train(on: data, evaluatingOn: data)
        var first = makeTrainer(epochs: 1)
        try first.train(on: data, evaluatingOn: data)
        let url = try temporaryDirectory().appendingPathComponent("run.safetensors")
        try first.checkpoint(metadata: ["note": "kept"]).save(to: url)
        let checkpoint = try Checkpoint.load(from: url)
        #expect(checkpoint.metadata["note"] == "kept")
        var resumed = makeTrainer(epochs: 3)
        try resumed.resume(from: checkpoint)
        try resumed.train(on: data, evaluatingOn: data)
        #expect(resumed.model.parameters == uninterrupted.model.parameters)
        #expect(resumed.history.map(\.trainLoss) == uninterrupted.history.map(\.trainLoss))
        #expect(resumed.history.map(\.testMetrics) == uninterrupted.history.map(\.testMetrics))

        var otherSeed = makeTrainer(epochs: 3, seed: 8)
        #expect(throws: CheckpointError.self) { try otherSeed.resume(from: checkpoint) }
        #expect(otherSeed.history.isEmpty)
    }

    @Test func workersOnShardsEndWhereOneProcessDoes() throws {
        let train = noisySine(count: 100, seed: 6), test = noisySine(count: 30, seed: 7)
        @Sendable func makeTrainer() -> Trainer<Curve, Dataset<Float>> {
            Trainer(
                model: Curve(), optimizer: Adam<Float>(learningRate: 0.01), settings: TrainingSettings(epochs: 2, batchSize: 33),
                loss: .meanSquaredError, metrics: [.rootMeanSquaredError])
        }
        var single = makeTrainer()
        try single.train(on: train, evaluatingOn: test)
        let group = ThreadGroup(count: 3)
        let lock = NSLock()
        nonisolated(unsafe) var results: [Int: Trainer<Curve, Dataset<Float>>] = [:]
        let done = DispatchGroup()
        for index in 0..<3 {
            done.enter()
            Thread {
                var trainer = makeTrainer()
                trainer.gradientReduction = ThreadWorker(group, index: index)
                _ = try? trainer.train(on: train, evaluatingOn: test)
                lock.lock()
                results[index] = trainer
                lock.unlock()
                done.leave()
            }.start()
        }
        done.wait()
        for trainer in results.values {
            #expect(trainer.completedEpochs == 2)
            for (a, b) in zip(trainer.history, single.history) {
                #expect(abs(a.trainLoss - b.trainLoss) <= 1e-5 * b.trainLoss)
                #expect(abs(a.testMetrics["rmse"]! - b.testMetrics["rmse"]!) <= 1e-5 * b.testMetrics["rmse"]!)
            }
            #expect(zip(trainer.model.parameters, single.model.parameters).allSatisfy { zip($0.scalars, $1.scalars).allSatisfy { abs($0 - $1) < 1e-5 } })
        }
    }
}
