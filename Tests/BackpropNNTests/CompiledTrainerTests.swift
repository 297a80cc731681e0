import Foundation
import Testing
@testable import BackpropNN

/// The compiled training step against the eager one: the same parameters and losses after an epoch (an MLP
/// with dropout and a small CNN on the bundled digits, the last batch short), dropout masks still drawn
/// afresh, and the eager fallback for what cannot be compiled.
@Suite struct CompiledTrainerTests {
    /// Two trainers of `configuration` on `data`, one compiled and one eager, after one epoch each.
    func trainedBothWays(
        _ configuration: TrainingConfiguration, on data: Dataset<Double>
    ) throws -> (compiled: ClassifierTrainer<Double>, eager: ClassifierTrainer<Double>) {
        var compiled = ClassifierTrainer<Double>(configuration: configuration, inputSize: data.featureCount, classCount: 10)
        #expect(compiled.compilesSteps, "a classifier compiles its steps by default")
        var eagerRun = compiled
        eagerRun.compilesSteps = false
        #expect(compiled.eagerStepReason == nil)
        try compiled.trainEpoch(on: data)
        let before = eagerRun.trainer.compiledStep?.calls ?? 0
        try eagerRun.trainEpoch(on: data)
        #expect(eagerRun.trainer.compiledStep?.calls == before, "the eager trainer went through the compiled step")
        let batches = (data.count + configuration.batchSize - 1) / configuration.batchSize
        #expect(compiled.trainer.compiledStep?.calls == batches, "the compiled trainer did not compile every step")
        return (compiled, eagerRun)
    }

    /// The largest |a − b| / max(|b|, 1e-3) over two lists of tensors.
    func largestRelativeDifference(_ a: [Tensor<Double>], _ b: [Tensor<Double>]) -> Double {
        zip(a, b).flatMap { x, y in
            zip(x.scalars, y.scalars).map { abs($0 - $1) / max(abs($1), 1e-3) }
        }.max() ?? 0
    }

    func expectEqualRuns(_ compiled: ClassifierTrainer<Double>, _ eager: ClassifierTrainer<Double>) {
        let parameters = largestRelativeDifference(compiled.model.parameters, eager.model.parameters)
        #expect(parameters <= 1e-6, "parameters differ by \(parameters) relative")
        let (a, b) = (compiled.history[0].trainLoss, eager.history[0].trainLoss)
        #expect(abs(a - b) <= 1e-6 * abs(b), "train losses \(a) and \(b)")
        #expect(compiled.history[0].trainAccuracy == eager.history[0].trainAccuracy)
    }

    @Test func digitsMLPWithDropoutEqualsTheEagerRunAfterAnEpoch() throws {
        let digits = try Dataset<Double>.digits()
        let train = digits.subset(Array(0..<500))   // 15 batches of 32 and a short one of 20
        let configuration = TrainingConfiguration(hiddenWidths: [32, 16], dropout: 0.2, epochs: 1, batchSize: 32, seed: 3)
        let (compiled, eager) = try trainedBothWays(configuration, on: train)
        expectEqualRuns(compiled, eager)
    }

    @Test func smallCNNEqualsTheEagerRunAfterAnEpoch() throws {
        let digits = try Dataset<Double>.digits()
        let train = digits.subset(Array(0..<200))   // 6 batches of 32 and a short one of 8
        let configuration = TrainingConfiguration(
            epochs: 1, batchSize: 32, seed: 1, architecture: .smallCNN, exampleShape: [1, 8, 8])
        let (compiled, eager) = try trainedBothWays(configuration, on: train)
        expectEqualRuns(compiled, eager)
    }

    @Test func mnistCNNEqualsTheEagerRunAfterAnEpoch() throws {
        // `backprop train --data mnist5k --model cnn`'s network on the first 80 of mnist5k's real 28x28
        // training images (Fixtures/mnist5k-sample): two batches of 32 and a short one of 16.
        let train = try Dataset<Double>(mnistDirectory: fixture("mnist5k-sample"), part: .train)
        #expect(train.count == 80 && train.featureCount == 784)
        let configuration = TrainingConfiguration(
            epochs: 1, batchSize: 32, seed: 2, architecture: .smallCNN, exampleShape: [1, 28, 28])
        let (compiled, eager) = try trainedBothWays(configuration, on: train)
        expectEqualRuns(compiled, eager)
    }

    @Test func dropoutDrawsNewMasksOnEveryCompiledStep() throws {
        let digits = try Dataset<Double>.digits()
        let batch = digits.subset(Array(0..<32))
        let configuration = TrainingConfiguration(hiddenWidths: [64], dropout: 0.5, epochs: 1, seed: 0)
        let start = ClassifierTrainer<Double>(configuration: configuration, inputSize: 64, classCount: 10).trainer
        func loss(seed: UInt64, compiled: Bool) -> Double {
            var trainer = start
            trainer.compilesSteps = compiled
            let step = trainer.step(on: batch, context: ForwardContext(mode: .training, seed: seed))
            return step.totals.lossSum
        }
        let first = loss(seed: 1, compiled: true), second = loss(seed: 2, compiled: true)
        #expect(first != second, "two compiled steps with other dropout seeds gave the same loss")
        // The first call's loss comes from the trace, this one from the replay: equal up to rounding (the
        // portable kernels round differently from the fused interpreter).
        #expect(abs(loss(seed: 1, compiled: true) - first) <= 1e-12 * abs(first))
        #expect(abs(loss(seed: 2, compiled: false) - second) <= 1e-9 * abs(second))
        #expect(start.compiledStep?.calls == 3)
    }

    @Test func batchNormAndClosureLossesTrainEagerlyAndSaySo() throws {
        let digits = try Dataset<Double>.digits().subset(Array(0..<64))
        let configuration = TrainingConfiguration(
            epochs: 1, batchSize: 32, architecture: try ArchitectureSpecification(parsing: "linear:16,bn,relu"))
        var normalized = ClassifierTrainer<Double>(configuration: configuration, inputSize: 64, classCount: 10)
        normalized.compilesSteps = true
        #expect(normalized.eagerStepReason?.contains("BatchNorm") == true)
        try normalized.trainEpoch(on: digits)
        #expect(normalized.trainer.compiledStep?.calls == 0)
        #expect(normalized.history.count == 1)

        let closure = TrainingLoss<Sequential<Double>, Dataset<Double>> { model, batch, context in
            softmaxCrossEntropy(logits: model(batch.features, context: context), labels: batch.labels)
        }
        var trainer = Trainer(
            model: Sequential<Double>.multilayerPerceptron(widths: [64, 10], seed: 0), optimizer: SGD<Double>(learningRate: 0.1),
            settings: TrainingSettings(epochs: 1), loss: closure)
        trainer.compilesSteps = true
        #expect(trainer.eagerStepReason?.contains("tensor form") == true)
        var eager = trainer
        eager.compilesSteps = false
        #expect(eager.eagerStepReason == nil)
    }

    @Test func regressionLossesCompileToTheEagerValues() throws {
        let x = Tensor<Double>(shape: [10, 2], scalars: (0..<20).map { Double($0) / 10 })
        let data = Dataset(features: x, labels: [], targets: x.sum(alongAxes: [1], keepingDimensions: true))
        for loss in [TrainingLoss<Sequential<Double>, Dataset<Double>>.meanSquaredError, .huber(delta: 0.5)] {
            var compiled = Trainer(
                model: Sequential<Double>.multilayerPerceptron(widths: [2, 8, 1], seed: 0), optimizer: SGD<Double>(learningRate: 0.05),
                settings: TrainingSettings(epochs: 3, batchSize: 4), loss: loss)
            var eager = compiled
            compiled.compilesSteps = true
            try compiled.train(on: data)
            try eager.train(on: data)
            #expect(compiled.compiledStep?.calls == 9)
            #expect(largestRelativeDifference(compiled.model.parameters, eager.model.parameters) <= 1e-9)
        }
    }
}
