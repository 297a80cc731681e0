import BackpropNN
import Foundation
import Testing

/// The README's code, run as written (with its comments turned into expectations), so the README stays true.
struct ReadmeExampleTests {
    @Test func functionalAndPyTorchStyleAPIs() {
        let (value, gradient) = valueWithGradient(at: Tensor<Double>(2), Tensor(-1), Tensor(0)) { x, y, z in
            z + sin(x * x + y * exp(z))
        }
        #expect(value.scalar == 0.14112000805986721)
        #expect(gradient.0.scalar == -3.9599699864017817)
        #expect(gradient.1.scalar == -0.9899924966004454)
        #expect(gradient.2.scalar == 1.9899924966004454)

        let x = Tensor<Double>(2).requiringGradient()
        let y = Tensor<Double>(-1).requiringGradient()
        let z = Tensor<Double>(0).requiringGradient()
        let f = z + sin(x * x + y * exp(z))
        f.backward()
        #expect(x.grad!.scalar == -3.9599699864017817)
    }

    @Test func broadcastingGradientsHaveTheInputsShapes() {
        let W = Tensor<Double>.randomNormal(shape: [3, 4], seed: 1)
        let x = Tensor<Double>.randomNormal(shape: [4, 1], seed: 2)
        let b = Tensor<Double>.randomNormal(shape: [3, 1], seed: 3)
        let u = Tensor<Double>.randomNormal(shape: [3, 1], seed: 4)
        let (dW, db) = gradient(at: W, b) { W, b in (u * sigmoid(matmul(W, x) + b)).sum() }
        let s = sigmoid(matmul(W, x) + b)
        let delta = u * s * (1 - s)
        #expect(db.shape == [3, 1] && dW.shape == [3, 4])
        for (a, e) in zip(db.scalars, delta.scalars) { #expect(Swift.abs(a - e) < 1e-15) }
        for (a, e) in zip(dW.scalars, matmul(delta, x.transposed()).scalars) { #expect(Swift.abs(a - e) < 1e-15) }
    }

    @Test func networkLoopSavesALoadableCheckpoint() throws {
        let (train, test) = try Dataset<Float>.digits().subset(Array(0..<300)).split(testFraction: 0.2, seed: 0)
        var model = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 0)
        var optimizer = Adam<Float>(learningRate: 1e-3)
        for epoch in 0..<15 {
            for batch in DataLoader(dataset: train, batchSize: 32, seed: 0).batches(epoch: epoch) {
                let network = model
                let (_, gradients) = valueWithGradient(at: model.parameters) { parameters in
                    var m = network
                    m.parameters = parameters
                    return softmaxCrossEntropy(logits: m(batch.features), labels: batch.labels)
                }
                optimizer.update(&model.parameters, along: gradients)
            }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint(model: model).save(to: url)
        var reloaded = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 9)
        try Checkpoint.load(from: url).apply(to: &reloaded)
        #expect(reloaded(test.features).scalars == model(test.features).scalars)
        #expect(accuracy(predictions: predictedClasses(model(test.features)), labels: test.labels) > 0.8)
    }

    @Test func convolutionalNetworkSnippetRunsInBothModes() {
        var generator = SeededGenerator(seed: 0)
        let cnn = Sequential<Float>([
            Conv2D(inputChannels: 1, outputChannels: 16, kernelSize: (3, 3), padding: (1, 1), using: &generator),
            BatchNorm(channels: 16), ReLU(), MaxPool2D(kernelSize: (2, 2)),
            Flatten(), Linear(inputSize: 16 * 14 * 14, outputSize: 10, using: &generator),
        ])
        let images = Tensor<Float>.randomNormal(shape: [8, 1, 28, 28], seed: 1)
        let logits = cnn(images, context: ForwardContext(mode: .training))
        let evaluation = cnn(images)
        #expect(logits.shape == [8, 10] && evaluation.shape == [8, 10])
        let batchNorm = cnn.layers[1] as! BatchNorm<Float>
        #expect(batchNorm.batchesTracked == 1)          // the training pass updated the running statistics
        #expect(batchNorm.runningMean.scalars.contains { $0 != 0 })
    }
}
