import BackpropNN
import Foundation
import Testing

/// The programs of Examples/ (a package of their own, which `swift test` does not build), each body written
/// here line for line as in its main.swift and run, then checked against what its output claims.
/// `DocumentationTests.everyExampleProgramIsTestedVerbatim` fails when an example and its copy here differ,
/// so an example cannot stop compiling or start giving other answers unseen.
struct ExampleProgramTests {
    @Test func sineRegressionFitsTheCurveAndLoadsBack() throws {
        struct SineModel: Layer {
            var hidden = Linear<Float>(inputSize: 1, outputSize: 32, initialization: .glorot, seed: 1)
            var output = Linear<Float>(inputSize: 32, outputSize: 1, initialization: .glorot, seed: 2)

            func callAsFunction(_ x: Tensor<Float>, context: ForwardContext) -> Tensor<Float> {
                output(tanh(hidden(x)))
            }
        }

        // 512 points of sin(3x) on [-1, 1] with noise of ±0.1.
        var generator = SeededGenerator(seed: 0)
        let xs = (0..<512).map { _ in Float(2 * generator.nextUnit() - 1) }
        let ys = xs.map { Float(sin(3 * Double($0)) + 0.1 * (2 * generator.nextUnit() - 1)) }
        let data = Dataset(features: Tensor(shape: [512, 1], scalars: xs), labels: [], targets: Tensor(shape: [512, 1], scalars: ys))

        var model = SineModel()
        var optimizer = Adam<Float>(learningRate: 0.01)
        for epoch in 0..<300 {
            for batch in DataLoader(dataset: data, batchSize: 64, seed: 0).batches(epoch: epoch) {
                let (_, gradient) = valueWithGradient(at: model) { m in
                    meanSquaredError(predicted: m(batch.features), expected: batch.targets!)
                }
                optimizer.update(&model, along: gradient)   // gradient is a SineModel: gradient.hidden.weight, …
            }
        }
        let loss = meanSquaredError(predicted: model(data.features), expected: data.targets!).scalar
        print("mean squared error \(loss) (the noise alone gives about 0.0033)")

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sine.safetensors")
        try Checkpoint(model: model).save(to: url)   // hidden.weight, hidden.bias, output.weight, output.bias
        var loaded = SineModel()
        try Checkpoint.load(from: url).apply(to: &loaded)
        let probe = Tensor<Float>(shape: [3, 1], scalars: [-0.5, 0, 0.5])
        print("saved to \(url.path) and loaded: sin(3x) at -0.5, 0, 0.5 ≈ \(loaded(probe).scalars) (exact: -0.997, 0, 0.997)")
        #expect(loss < 0.01, "mean squared error \(loss)")
        #expect(model.parameterNames == ["hidden.weight", "hidden.bias", "output.weight", "output.bias"])
        #expect(loaded(probe) == model(probe))
        #expect(zip(loaded(probe).scalars, [-0.997, 0, 0.997]).allSatisfy { abs(Double($0) - $1) < 0.1 })
        try? FileManager.default.removeItem(at: url)
    }

    @Test func customClassifierLearnsWithBackwardAndZeroGradients() throws {
        struct DigitClassifier: Layer {
            var hidden = Linear<Float>(inputSize: 64, outputSize: 64, seed: 1)
            var norm = LayerNorm<Float>(size: 64)
            var output = Linear<Float>(inputSize: 64, outputSize: 10, initialization: .glorot, seed: 2)

            func callAsFunction(_ x: Tensor<Float>, context: ForwardContext) -> Tensor<Float> {
                output(relu(norm(hidden(x))))
            }
        }

        let (train, test) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
        var model = DigitClassifier().requiringGradients()
        var optimizer = SGD<Float>(learningRate: 0.05, momentum: 0.9)
        print("parameters: \(model.parameterNames.joined(separator: ", "))")

        for epoch in 0..<15 {
            var total = 0.0
            for batch in DataLoader(dataset: train, batchSize: 32, seed: 0).batches(epoch: epoch) {
                model.zeroGradients()
                let loss = softmaxCrossEntropy(logits: model(batch.features), labels: batch.labels)
                loss.backward()
                optimizer.update(&model)   // along every parameter's grad
                total += Double(loss.scalar) * Double(batch.labels.count)
            }
            if epoch % 5 == 4 {
                let predictions = predictedClasses(withoutRecording { model(test.features) })
                print("epoch \(epoch + 1)  train loss \(total / Double(train.count))  "
                    + "test accuracy \(accuracy(predictions: predictions, labels: test.labels))")
            }
        }
        let testAccuracy = accuracy(predictions: predictedClasses(model(test.features)), labels: test.labels)
        #expect(testAccuracy > 0.95, "test accuracy \(testAccuracy)")
        #expect(model.parameterNames.count == 6)
    }

    @Test func digitsMLPLearnsAndSaves() throws {
        let (train, test) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
        let normalization = Normalization.standardizing(train.features)
        let trainSet = normalization.apply(train), testSet = normalization.apply(test)

        var model = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 0)
        var optimizer = Adam<Float>(learningRate: 1e-3)
        let loader = DataLoader(dataset: trainSet, batchSize: 32, shuffles: true, seed: 0)

        for epoch in 0..<20 {
            var totalLoss = 0.0
            for batch in loader.batches(epoch: epoch) {
                let (loss, gradient) = valueWithGradient(at: model) { m in
                    softmaxCrossEntropy(logits: m(batch.features), labels: batch.labels)
                }
                optimizer.update(&model, along: gradient)
                totalLoss += Double(loss.scalar) * Double(batch.labels.count)
            }
            if epoch % 5 == 4 {
                let predictions = predictedClasses(withoutRecording { model(testSet.features) })
                print("epoch \(epoch + 1)  train loss \(totalLoss / Double(trainSet.count))  "
                    + "test accuracy \(accuracy(predictions: predictions, labels: testSet.labels))")
            }
        }

        let predictions = predictedClasses(withoutRecording { model(testSet.features) })
        print(ConfusionMatrix(predictions: predictions, labels: testSet.labels, classCount: 10))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("digits-mlp.safetensors")
        try Checkpoint(model: model).save(to: url)
        print("saved \(url.path) (loads into PyTorch's nn.Sequential(Linear(64,128), ReLU(), Linear(128,10)))")
        #expect(accuracy(predictions: predictions, labels: testSet.labels) > 0.95)
        var reloaded = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 9)
        try Checkpoint.load(from: url).apply(to: &reloaded)
        #expect(reloaded(testSet.features) == model(testSet.features))
        try? FileManager.default.removeItem(at: url)
    }

    @Test func logisticRegressionSeparatesTheClusters() throws {
        var generator = SeededGenerator(seed: 42)
        let count = 200
        let noise = Tensor<Double>.randomNormal(shape: [count, 2], standardDeviation: 0.8, using: &generator).scalars
        var points: [Double] = [], labels: [Double] = []
        for i in 0..<count {
            let label = Double(i % 2), center = label == 1 ? 1.0 : -1.0
            points += [center + noise[2 * i], center + noise[2 * i + 1]]
            labels.append(label)
        }
        let x = Tensor(shape: [count, 2], scalars: points)
        let y = Tensor(shape: [count, 1], scalars: labels)

        // The model's parameters: w (2×1) and w₀.
        var w = Tensor<Double>.zeros(shape: [2, 1])
        var w0 = Tensor<Double>(0)
        let learningRate = 0.5

        for step in 0...300 {
            // Forward and backward in one call: the loss and its gradient with respect to (w, w₀).
            let (loss, (dw, dw0)) = valueWithGradient(at: w, w0) { w, w0 in
                binaryCrossEntropy(logits: matmul(x, w) + w0, labels: y)
            }
            if step % 50 == 0 { print("step \(step)  loss \(loss.scalar)") }
            // Gradient descent: step against the gradient.
            w = w - learningRate * dw
            w0 = w0 - learningRate * dw0
        }

        let predictions = sigmoid(matmul(x, w) + w0).scalars.map { $0 > 0.5 ? 1 : 0 }
        let correct = zip(predictions, labels).filter { Double($0) == $1 }.count
        print("w = \(w.scalars), w0 = \(w0.scalar)")
        print("training accuracy \(Double(correct) / Double(count))")
        #expect(Double(correct) / Double(count) > 0.9)
    }
}
