import BackpropNN
import Foundation
import Testing

/// A resumed run keeps the optimizer it was saved with (kind and hyper-parameters), a damaged entry is refused
/// with a message naming it, and a `Trainer` set up with other hyper-parameters refuses the checkpoint.
struct OptimizerResumeTests {
    func digitsSlice() throws -> (train: Dataset<Float>, test: Dataset<Float>) {
        try Dataset<Float>.digits().subset(Array(0..<300)).split(testFraction: 0.25, seed: 3)
    }

    /// Optimizers that differ from what the configuration's choice makes, each in a hyper-parameter its
    /// configuration writes.
    static let replacements: [@Sendable () -> any Optimizer<Float>] = [
        { SGD<Float>(learningRate: 0.01, momentum: 0.5, nesterov: true, weightDecay: 0.01) },
        { Adam<Float>(learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.02, decouplesWeightDecay: true) },
        { RMSProp<Float>(learningRate: 0.01, rho: 0.9, epsilon: 1e-7, weightDecay: 0.001) },
    ]

    @Test(arguments: 0..<3)
    func aResumedClassifierRunKeepsItsOptimizerAndMatchesTheUninterruptedOne(_ which: Int) throws {
        let (train, test) = try digitsSlice()
        let configuration = TrainingConfiguration(hiddenWidths: [16], epochs: 3, optimizer: .sgd, learningRate: 0.01, seed: 4)
        func makeTrainer() -> ClassifierTrainer<Float> {
            var trainer = ClassifierTrainer<Float>(configuration: configuration, inputSize: 64, classCount: 10)
            trainer.optimizer = Self.replacements[which]()
            return trainer
        }
        var uninterrupted = makeTrainer()
        try uninterrupted.train(on: train, evaluatingOn: test)
        var interrupted = makeTrainer()
        try interrupted.trainEpoch(on: train, evaluatingOn: test)
        var resumed = try ClassifierTrainer<Float>(resumingFrom: interrupted.checkpoint())
        #expect(resumed.optimizer.configuration == interrupted.optimizer.configuration)
        try resumed.train(on: train, evaluatingOn: test)
        #expect(resumed.model.parameters.map(\.scalars) == uninterrupted.model.parameters.map(\.scalars))
    }

    @Test func aResumedLanguageModelRunKeepsItsOptimizer() throws {
        let corpus = try TextCorpus(text: String(repeating: "abcd efg ", count: 20))
        let model = LanguageModelConfiguration(
            kind: .lstm, vocabularySize: corpus.vocabulary.count, context: 8, layers: 1, width: 8, heads: 1)
        var trainer = LanguageModelTrainer<Float>(
            configuration: LanguageModelTrainingConfiguration(model: model, batchSize: 4, learningRate: 1e-2),
            vocabulary: corpus.vocabulary)
        trainer.optimizer = Adam<Float>(learningRate: 1e-2, beta1: 0.7, weightDecay: 0.05, decouplesWeightDecay: true)
        let resumed = try LanguageModelTrainer<Float>(resumingFrom: trainer.checkpoint())
        #expect(resumed.optimizer.configuration == trainer.optimizer.configuration)
    }

    @Test(arguments: [
        ("optimizer.momentum", "-1"), ("optimizer.momentum", "nan"), ("optimizer.weight_decay", "inf"),
        ("optimizer.nesterov", "maybe"), ("optimizer.kind", "lion"), ("optimizer.momentum", ""),
    ])
    func aDamagedOptimizerEntryIsRefusedByName(_ key: String, _ value: String) throws {
        var trainer = ClassifierTrainer<Float>(
            configuration: TrainingConfiguration(hiddenWidths: [8], optimizer: .momentum), inputSize: 64, classCount: 10)
        trainer.optimizer = SGD<Float>(learningRate: 1e-3, momentum: 0.9, nesterov: true)
        var checkpoint = trainer.checkpoint()
        checkpoint.metadata[key] = value
        let error = try #require(throws: CheckpointError.self) { try ClassifierTrainer<Float>(resumingFrom: checkpoint) }
        #expect("\(error)".contains(key), "\(error)")
        // A missing hyper-parameter is refused too (a missing kind is an older checkpoint's: see below).
        if key != "optimizer.kind" {
            checkpoint.metadata[key] = nil
            #expect(throws: CheckpointError.self) { try ClassifierTrainer<Float>(resumingFrom: checkpoint) }
        }
    }

    @Test func aCheckpointWithoutTheOptimizersKindResumesWithTheConfiguredOne() throws {
        // Checkpoints written before `optimizer.kind` existed: the configuration's choice decides the kind.
        let trainer = ClassifierTrainer<Float>(
            configuration: TrainingConfiguration(hiddenWidths: [8], optimizer: .rmsprop), inputSize: 64, classCount: 10)
        var checkpoint = trainer.checkpoint()
        checkpoint.metadata["optimizer.kind"] = nil
        let resumed = try ClassifierTrainer<Float>(resumingFrom: checkpoint)
        #expect(resumed.optimizer.configuration == trainer.optimizer.configuration)
    }

    @Test func aTrainerWithOtherHyperparametersRefusesTheCheckpoint() throws {
        let data = Dataset<Float>(
            features: Tensor(shape: [8, 2], scalars: (0..<16).map { Float($0) / 16 }), labels: [],
            targets: Tensor(shape: [8, 1], scalars: (0..<8).map { Float($0 % 2) }))
        func makeTrainer(weightDecay: Double) -> Trainer<Sequential<Float>, Dataset<Float>> {
            Trainer(
                model: .multilayerPerceptron(widths: [2, 4, 1], seed: 1),
                optimizer: SGD<Float>(learningRate: 0.1, momentum: 0.9, weightDecay: weightDecay),
                settings: TrainingSettings(epochs: 1, batchSize: 4, seed: 2), loss: .meanSquaredError)
        }
        var first = makeTrainer(weightDecay: 0.01)
        try first.train(on: data)
        let checkpoint = first.checkpoint()
        var same = makeTrainer(weightDecay: 0.01)
        try same.resume(from: checkpoint)
        var other = makeTrainer(weightDecay: 0)
        let error = try #require(throws: CheckpointError.self) { try other.resume(from: checkpoint) }
        #expect("\(error)".contains("optimizer.weight_decay"), "\(error)")
        #expect(other.history.isEmpty)
    }
}
