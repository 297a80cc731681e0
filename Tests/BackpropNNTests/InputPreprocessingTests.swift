import Backprop
import BackpropNN
import Foundation
import Testing

@Suite struct InputPreprocessingTests {
    @Test func aCheckpointCarriesItsPreprocessingToRawRows() throws {
        let digits = try Dataset<Float>.digits()
        let (train, test) = digits.split(testFraction: 0.2, seed: 0)
        let normalization = Normalization.standardizing(train.features)
        var trainer = ClassifierTrainer<Float>(configuration: TrainingConfiguration(hiddenWidths: [16], epochs: 2), inputSize: 64, classCount: 10)
        try trainer.train(on: normalization.apply(train))
        trainer.inputPreprocessing = InputPreprocessing(
            scale: Dataset<Float>.digitsScale, normalization: normalization, exampleShape: [1, 8, 8], classNames: (0..<10).map { "digit \($0)" })
        let url = try temporaryDirectory().appendingPathComponent("digits.safetensors")
        try trainer.checkpoint().save(to: url)

        let loaded = try ClassifierTrainer<Float>(resumingFrom: Checkpoint.load(from: url))
        #expect(loaded.preprocessingAssumption == nil)
        #expect(loaded.inputPreprocessing == trainer.inputPreprocessing)
        #expect(loaded.inputPreprocessing?.className(3) == "digit 3")
        // Raw rows (pixels 0…16) through the loaded preprocessing give the answers of the prepared rows.
        let raw = test.features * 16
        let fromRaw = loaded.probabilities(forRawFeatures: raw)
        let prepared = trainer.logits(normalization.apply(test.features)).softmax(alongAxis: 1)
        #expect(zip(fromRaw.scalars, prepared.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
        // A data set loaded with its own scaling is scaled only by the rest.
        let alreadyScaled = try #require(loaded.inputPreprocessing).apply(toRaw: test.features, sourceScale: Dataset<Float>.digitsScale)
        #expect(alreadyScaled == normalization.apply(test.features))
    }

    @Test func oldCheckpointsSayWhatIsAssumed() throws {
        let legacy = try Checkpoint.load(from: fixture("legacy/digits-mlp-16.safetensors"))
        let (preprocessing, assumption) = try InputPreprocessing<Float>.recorded(in: legacy)
        #expect(preprocessing.scale == 1.0 / 16 && preprocessing.normalization != nil)
        #expect(assumption?.contains("divided by 16") == true)
        let stateDict = try Checkpoint.load(from: fixture("pytorch_mlp.safetensors"))
        #expect(try InputPreprocessing<Float>.recorded(in: stateDict).preprocessing == InputPreprocessing())

        var checkpoint = Checkpoint(metadata: ["input.scale": "-1"])
        #expect(throws: CheckpointError.self) { try InputPreprocessing<Float>.recorded(in: checkpoint) }
        checkpoint.metadata = ["input.scale": "1", "input.class_names": "[1, 2]"]
        #expect(throws: CheckpointError.self) { try InputPreprocessing<Float>.recorded(in: checkpoint) }
    }
}
