import BackpropNN
import Foundation
import Testing

/// The Swift snippets of README.md and of the BackpropNN catalog's articles, each written here exactly as
/// printed there, followed by expectations for what its comments claim. `DocumentationTests` checks that
/// every snippet appears verbatim in a test.
struct DocumentationExampleTests {
    @Test func networkLoopLearnsTheDigitsAndSavesALoadableCheckpoint() throws {
        let (train, test) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
        var model = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 0)
        var optimizer = Adam<Float>(learningRate: 1e-3)
        for epoch in 0..<20 {
            for batch in DataLoader(dataset: train, batchSize: 32, seed: 0).batches(epoch: epoch) {
                let gradient = gradient(at: model) { m in
                    softmaxCrossEntropy(logits: m(batch.features), labels: batch.labels)
                }
                optimizer.update(&model, along: gradient)
            }
        }
        let testAccuracy = accuracy(predictions: predictedClasses(model(test.features)), labels: test.labels)  // about 0.98
        try Checkpoint(model: model).save(to: FileManager.default.temporaryDirectory.appendingPathComponent("digits.safetensors"))

        #expect(testAccuracy > 0.97 && testAccuracy < 0.99, "test accuracy \(testAccuracy)")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("digits.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var reloaded = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 9)
        try Checkpoint.load(from: url).apply(to: &reloaded)
        #expect(reloaded(test.features).scalars == model(test.features).scalars)
    }

    @Test func convolutionalNetworkRunsInBothModes() {
        var generator = SeededGenerator(seed: 0)
        let cnn = Sequential<Float>([
            Conv2D(inputChannels: 1, outputChannels: 16, kernelSize: (3, 3), padding: (1, 1), using: &generator),
            BatchNorm(channels: 16), ReLU(), MaxPool2D(kernelSize: (2, 2)),
            Flatten(), Linear(inputSize: 16 * 14 * 14, outputSize: 10, using: &generator),
        ])
        let images = Tensor<Float>.randomNormal(shape: [8, 1, 28, 28], seed: 1)
        let logits = cnn(images, context: ForwardContext(mode: .training))   // BatchNorm: batch statistics, running ones updated
        let evaluation = cnn(images)                                          // evaluation mode: running statistics
        #expect(logits.shape == [8, 10] && evaluation.shape == [8, 10])
        let batchNorm = cnn.layers[1] as! BatchNorm<Float>
        #expect(batchNorm.batchesTracked == 1)          // the training pass updated the running statistics
        #expect(batchNorm.runningMean.scalars.contains { $0 != 0 })
        #expect(logits.scalars != evaluation.scalars)  // batch statistics in training, running ones in evaluation
    }
}

/// The snippets of the SequencesAndLanguage article.
struct SequenceDocumentationExampleTests {
    @Test func layersTakeBatchFirstSequences() {
        var generator = SeededGenerator(seed: 0)
        let lstm = LSTM<Float>(inputSize: 8, hiddenSize: 16, layerCount: 2, using: &generator)
        let x = Tensor<Float>.randomNormal(shape: [4, 10, 8], seed: 1)   // [batch, steps, features]
        let (output, state) = lstm(x, initialState: nil)                 // [4, 10, 16]; state.hidden, state.cell: [2, 4, 16]
        let block = TransformerBlock<Float>(width: 16, headCount: 4, isCausal: true, using: &generator)
        let y = block(output)                                            // [4, 10, 16]

        #expect(output.shape == [4, 10, 16] && state.hidden.shape == [2, 4, 16] && state.cell.shape == [2, 4, 16])
        #expect(y.shape == [4, 10, 16])
    }

    @Test func aCharacterModelLearnsARepeatedLine() throws {
        let corpus = try TextCorpus(text: String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40))
        let (training, validation) = try corpus.split(validationFraction: 0.1, seed: 0)
        let model = LanguageModelConfiguration(kind: .lstm, vocabularySize: corpus.vocabulary.count, context: 16, layers: 1, width: 32)
        var trainer = LanguageModelTrainer<Float>(
            configuration: LanguageModelTrainingConfiguration(model: model, batchSize: 8, learningRate: 1e-2), vocabulary: corpus.vocabulary)
        let windows = TextWindows(tokens: training, context: 16), held = TextWindows(tokens: validation, context: 16)
        for _ in 0..<8 { try trainer.trainEpoch(on: windows, evaluatingOn: held) }
        let loss = trainer.evaluate(on: held)                                 // loss.bitsPerCharacter: about 0.14
        let text = try trainer.generate(prompt: "the quick", length: 30, temperature: 0, seed: 0)   // " brown fox jumps over the lazy"

        #expect(loss.bitsPerCharacter < 0.3, "\(loss)")
        #expect(text == " brown fox jumps over the lazy", "\(text)")
    }
}
