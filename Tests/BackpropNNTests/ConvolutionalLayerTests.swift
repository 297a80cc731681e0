import Backprop
import BackpropNN
import Foundation
import Testing

/// The CNN of scripts/make_pytorch_fixture.py, built here with the same layer order (so the same
/// state_dict names).
private func fixtureCNN<Scalar: TensorScalar>(_: Scalar.Type) -> Sequential<Scalar> {
    var generator = SeededGenerator(seed: 1)
    return Sequential<Scalar>([
        Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: (3, 3), padding: (1, 1), using: &generator),
        BatchNorm(channels: 4),
        ReLU(),
        MaxPool2D(kernelSize: (2, 2)),
        Conv2D(inputChannels: 4, outputChannels: 6, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), hasBias: false, using: &generator),
        ReLU(),
        AvgPool2D(kernelSize: (2, 2)),
        Flatten(),
        Linear(inputSize: 6, outputSize: 10, using: &generator),
    ])
}

@Suite struct ConvolutionalLayerTests {
    @Test func loadsPyTorchCNNWithBatchNormAndReproducesItsLogits() throws {
        let checkpoint = try Checkpoint.load(from: fixture("pytorch_cnn.safetensors"))
        var model = fixtureCNN(Float.self)
        #expect(Set(checkpoint.names) == Set(model.parameterNames + model.bufferNames))
        try checkpoint.apply(to: &model)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture("pytorch_cnn_logits.json"))) as? [String: Any]
        let expected = try #require(json?["logits"] as? [[Double]])
        let digits = try Dataset<Float>.digits()
        let images = digits.subset(Array(0..<5)).features.reshaped(to: [5, 1, 8, 8])   // features are pixel / 16
        let logits = model(images)   // evaluation mode: BatchNorm uses the running statistics PyTorch saved
        #expect(logits.shape == [5, 10])
        for (row, expectedRow) in expected.enumerated() {
            for (column, value) in expectedRow.enumerated() {
                #expect(abs(Double(logits[index: row, column]) - value) < 1e-5, "[\(row), \(column)]")
            }
        }
        let batchNorm = try #require(model.layers[1] as? BatchNorm<Float>)
        #expect(batchNorm.batchesTracked == 3)

        // Saved here, the file has PyTorch's names and dtypes (num_batches_tracked a 0-d int64) and loads back.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint(model: model).save(to: url)
        let file = try SafeTensorsFile.read(from: url)
        #expect(file.tensors["1.num_batches_tracked"]?.dtype == .int64 && file.tensors["1.num_batches_tracked"]?.shape == [])
        #expect(file.tensors["0.weight"]?.shape == [4, 1, 3, 3])
        var reloaded = fixtureCNN(Double.self)
        try Checkpoint.load(from: url).apply(to: &reloaded)
        let again = reloaded(images.converted(to: Double.self))
        #expect(abs(again[index: 2, 7] - expected[2][7]) < 1e-5)
    }

    @Test func batchNormTrainsOnBatchStatisticsAndEvaluatesOnRunningOnes() {
        let layer = BatchNorm<Double>(channels: 2, momentum: 0.1)
        let x = Tensor<Double>(shape: [2, 2, 1, 2], scalars: [1, 2, 10, 20, 3, 4, 30, 40])
        let y = layer(x, context: ForwardContext(mode: .training))
        // Channel 0 holds 1, 2, 3, 4: mean 2.5, biased variance 1.25.
        let expected0 = [1.0, 2, 3, 4].map { ($0 - 2.5) / (1.25 + 1e-5).squareRoot() }
        #expect(zip([y[index: 0, 0, 0, 0], y[index: 0, 0, 0, 1], y[index: 1, 0, 0, 0], y[index: 1, 0, 0, 1]], expected0).allSatisfy { abs($0 - $1) < 1e-12 })
        // Running statistics: 0.9·0 + 0.1·2.5 and 0.9·1 + 0.1·(unbiased variance 5/3).
        #expect(abs(layer.runningMean.scalars[0] - 0.25) < 1e-12)
        #expect(abs(layer.runningVariance.scalars[0] - (0.9 + 0.1 * 5.0 / 3)) < 1e-12)
        #expect(layer.batchesTracked == 1)
        let evaluated = layer(x)
        #expect(abs(evaluated[index: 0, 0, 0, 0] - (1 - 0.25) / (layer.runningVariance.scalars[0] + 1e-5).squareRoot()) < 1e-12)
        #expect(layer.batchesTracked == 1)   // evaluation leaves the statistics alone
    }

    @Test func batchNormGradientsPassFiniteDifferencesInTrainingMode() {
        let x = Tensor<Double>.randomUniform(shape: [3, 2, 2, 3], lowerBound: -1, upperBound: 1, seed: 8)
        let u = Tensor<Double>.randomUniform(shape: [3, 2, 2, 3], lowerBound: -1, upperBound: 1, seed: 9)
        let check = checkGradients(at: [x, Tensor([1.5, 0.5]), Tensor([0.1, -0.2])]) { v in
            var layer = BatchNorm<Double>(channels: 2)
            layer.parameters = [v[1], v[2]]
            return (layer(v[0], context: ForwardContext(mode: .training)) * u).sum()
        }
        #expect(check.passes(tolerance: 1e-7), "\(check.maxRelativeError)")
        // Second order: the Hessian-vector product against differences of the gradient.
        let v = Tensor<Double>.randomUniform(shape: x.shape, lowerBound: -1, upperBound: 1, seed: 10)
        let loss: (Tensor<Double>) -> Tensor<Double> = { x in
            (BatchNorm<Double>(channels: 2)(x, context: ForwardContext(mode: .training)) * u).sum()
        }
        let hv = hessianVectorProduct(at: x, along: v, of: loss)
        let h = 1e-5
        let estimate = (gradient(at: x + h * v, of: loss) - gradient(at: x - h * v, of: loss)) / (2 * h)
        #expect(zip(hv.scalars, estimate.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func layersComposeIntoACNNThatLearns() {
        // A tiny CNN on 8×8 digits: a few Adam steps lower the loss (the layers' gradients flow end to end).
        var model = fixtureCNN(Float.self)
        let digits = try! Dataset<Float>.digits()
        let batch = digits.subset(Array(0..<64))
        let images = batch.features.reshaped(to: [64, 1, 8, 8])
        var optimizer = Adam<Float>(learningRate: 0.01)
        var first = Float.nan, last = Float.nan
        for step in 0..<30 {
            let (loss, gradients) = valueWithGradient(at: model.parameters) { p in
                var m = model
                m.parameters = p
                return m(images, context: ForwardContext(mode: .training)).softmaxCrossEntropy(labels: batch.labels)
            }
            optimizer.update(&model.parameters, along: gradients)
            if step == 0 { first = loss.scalar }
            last = loss.scalar
        }
        #expect(last < first * 0.75, "loss \(first) → \(last)")
        #expect((model.layers[1] as! BatchNorm<Float>).batchesTracked == 30)
    }

    @Test func shapesAndNames() {
        var generator = SeededGenerator(seed: 3)
        let conv = Conv2D<Float>(inputChannels: 3, outputChannels: 8, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), using: &generator)
        #expect(conv.parameterNames == ["weight", "bias"] && conv.weight.shape == [8, 3, 3, 3])
        let x = Tensor<Float>.randomNormal(shape: [2, 3, 9, 9], seed: 4)
        #expect(conv(x).shape == [2, 8, 5, 5])
        #expect(MaxPool2D<Float>(kernelSize: (2, 2))(conv(x)).shape == [2, 8, 2, 2])
        #expect(GlobalAveragePool<Float>()(conv(x)).shape == [2, 8])
        #expect(Flatten<Float>()(conv(x)).shape == [2, 200])
        let model = fixtureCNN(Float.self)
        #expect(model.bufferNames == ["1.running_mean", "1.running_var", "1.num_batches_tracked"])
        #expect(model.parameterNames == ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "8.weight", "8.bias"])
    }
}
