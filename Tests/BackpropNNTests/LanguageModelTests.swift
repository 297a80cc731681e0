import Foundation
import Testing
@testable import BackpropNN

/// The character language models: PyTorch's same modules load by name and give the same logits and
/// gradients; training learns a simple text; checkpoints resume exactly; generation is greedy or seeded.
@Suite struct LanguageModelTests {
    /// The fixture model's logits and gradients against PyTorch's.
    func checkAgainstPyTorch(_ name: String, _ configuration: LanguageModelConfiguration) throws {
        let fixture = try SequenceFixture(name)
        var model = makeLanguageModel(configuration, seed: 9, as: Float.self)
        #expect(Set(model.parameterNames).isSubset(of: Set(fixture.checkpoint.names)))
        try fixture.checkpoint.apply(to: &model)
        let tokens = try fixture.tensor("input.tokens")
        let logits = model(tokens)
        #expect(logits.shape == [2, 6, 7])
        #expect(largestDifference(logits, try fixture.tensor("expected.logits")) < 1e-5)
        let network = model
        let gradients = gradient(at: network.parameters) { parameters in
            var m = network
            m.parameters = parameters
            return try! fixture.loss(["logits": m(tokens)])
        }
        for (name, value) in zip(network.parameterNames, gradients) {
            #expect(largestDifference(value, try fixture.tensor("grad." + name)) < 1e-5, "gradient of \(name)")
        }
    }

    @Test func transformerLanguageModelMatchesPyTorch() throws {
        try checkAgainstPyTorch(
            "char_transformer", LanguageModelConfiguration(kind: .transformer, vocabularySize: 7, context: 6, layers: 2, width: 8, heads: 2))
    }

    @Test func lstmLanguageModelMatchesPyTorch() throws {
        try checkAgainstPyTorch("char_lstm", LanguageModelConfiguration(kind: .lstm, vocabularySize: 7, context: 6, layers: 2, width: 8))
    }

    @Test func configurationsRoundTripAndBadOnesAreRefused() {
        let configuration = LanguageModelConfiguration(kind: .gru, vocabularySize: 30, context: 16, layers: 3, width: 12, heads: 1, dropout: 0.1)
        #expect(LanguageModelConfiguration(metadata: configuration.metadata) == configuration)
        for kind in LanguageModelKind.allCases {
            let c = LanguageModelConfiguration(kind: kind, vocabularySize: 11, context: 5, layers: 2, width: 8, heads: 2)
            #expect(makeLanguageModel(c, seed: 0, as: Float.self).parameterCount == c.parameterCount, "\(kind)")
        }
        #expect(LanguageModelConfiguration(kind: .transformer, vocabularySize: 10, width: 10, heads: 4).problem == "the heads (4) must divide the width (10)")
        #expect(LanguageModelConfiguration(kind: .lstm, vocabularySize: 1).problem != nil)
        let huge = LanguageModelConfiguration(kind: .transformer, vocabularySize: 65536, width: 4096, heads: 4)
        #expect(huge.problem?.contains("more than the 268435456 allowed") == true)
    }

    /// A trainer for a tiny model of `kind` on a repeating text.
    func tinyRun(_ kind: LanguageModelKind, epochs: Int = 2, seed: UInt64 = 1) throws -> (LanguageModelTrainer<Float>, TextWindows, TextWindows) {
        let corpus = try TextCorpus(text: String(repeating: "abcd efg ", count: 60))
        let (training, validation) = try corpus.split(validationFraction: 0.2, seed: 0, blockLength: 45)
        let model = LanguageModelConfiguration(
            kind: kind, vocabularySize: corpus.vocabulary.count, context: 8, layers: 1, width: 16, heads: 2)
        let configuration = LanguageModelTrainingConfiguration(
            model: model, epochs: epochs, batchSize: 8, learningRate: 1e-2, seed: seed)
        return (LanguageModelTrainer(configuration: configuration, vocabulary: corpus.vocabulary),
                TextWindows(tokens: training, context: 8), TextWindows(tokens: validation, context: 8))
    }

    @Test(arguments: [LanguageModelKind.transformer, .lstm, .gru])
    func learnsARepeatingTextAndGeneratesIt(_ kind: LanguageModelKind) throws {
        var (trainer, training, validation) = try tinyRun(kind, epochs: 12)
        let before = trainer.evaluate(on: validation)
        #expect(Swift.abs(before.loss - Foundation.log(8)) < 0.5)
        for _ in 0..<12 { try trainer.trainEpoch(on: training, evaluatingOn: validation) }
        let after = trainer.evaluate(on: validation)
        // After the first character of a window the text is fully predictable.
        #expect(after.loss < 0.5 && after.accuracy > 0.85, "\(kind): \(after)")
        #expect(trainer.history.count == 12 && trainer.history.last!.testLoss == after.loss)
        #expect(try trainer.generate(prompt: "abc", length: 12, temperature: 0, seed: 0) == "d efg abcd e")
    }

    @Test func samplingIsSeededAndGreedyAtTemperatureZero() throws {
        let (trainer, _, _) = try tinyRun(.lstm)
        let a = try trainer.generate(prompt: "a", length: 40, temperature: 1, seed: 7)
        #expect(a == (try trainer.generate(prompt: "a", length: 40, temperature: 1, seed: 7)))
        #expect(a != (try trainer.generate(prompt: "a", length: 40, temperature: 1, seed: 8)))
        #expect(a.unicodeScalars.count == 40)
        let greedy = try trainer.generate(prompt: "a", length: 20, temperature: 0, seed: 1)
        #expect(greedy == (try trainer.generate(prompt: "a", length: 20, temperature: 0, seed: 2)))
        #expect(throws: DataError.self) { try trainer.generate(prompt: "xyz", length: 5, temperature: 0, seed: 0) }
        #expect(throws: DataError.self) { try trainer.generate(prompt: "", length: 5, temperature: 0, seed: 0) }
        var sampler = CharacterSampler(temperature: 0, seed: 0)
        #expect(sampler.choose(Tensor<Float>([0.1, 3, -2, 3])) == 1)
    }

    @Test func recurrentGenerationCarriesTheStateLikeAFullPass() throws {
        let (trainer, _, _) = try tinyRun(.gru)
        let prompt = try trainer.vocabulary.encode("abcd e")
        var sampler = CharacterSampler(temperature: 0.7, seed: 3)
        let generated = trainer.model.continuation(of: prompt, length: 10) { sampler.choose($0) }
        // Re-reading prompt + generated text in one pass gives at each step the logits the state carried.
        let all = prompt + generated
        let logits = trainer.model.logits(tokens: Array(all.dropLast()), batch: 1, context: ForwardContext(mode: .evaluation))
        var replay = CharacterSampler(temperature: 0.7, seed: 3)
        for k in 0..<10 {
            let row = logits.slicing((prompt.count - 1 + k)..<(prompt.count + k), alongAxis: 0).reshaped(to: [trainer.vocabulary.count])
            #expect(replay.choose(row) == generated[k])
        }
    }

    @Test func aResumedRunContinuesExactly() throws {
        var (whole, training, validation) = try tinyRun(.transformer, epochs: 2)
        var (first, _, _) = try tinyRun(.transformer, epochs: 2)
        try whole.trainEpoch(on: training, evaluatingOn: validation)
        try whole.trainEpoch(on: training, evaluatingOn: validation)
        try first.trainEpoch(on: training, evaluatingOn: validation)
        let url = try temporaryDirectory().appendingPathComponent("lm.safetensors")
        try first.checkpoint().save(to: url)
        var resumed = try LanguageModelTrainer<Float>(resumingFrom: try Checkpoint.load(from: url))
        #expect(resumed.vocabulary == whole.vocabulary && resumed.configuration == whole.configuration && resumed.completedEpochs == 1)
        try resumed.trainEpoch(on: training, evaluatingOn: validation)
        #expect(resumed.model.parameters == whole.model.parameters)
        #expect(resumed.history.map(\.trainLoss) == whole.history.map(\.trainLoss))
        // A classifier checkpoint is not a language model's.
        let classifier = ClassifierTrainer<Float>(configuration: TrainingConfiguration(), inputSize: 4, classCount: 2)
        #expect(throws: CheckpointError.self) { try LanguageModelTrainer<Float>(resumingFrom: classifier.checkpoint()) }
    }
}
