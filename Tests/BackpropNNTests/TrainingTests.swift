import BackpropNN
import Foundation
import Testing

/// Training end to end: lecture 000's logistic regression, a squared-loss regression, the digits MLP's
/// determinism, and a resumed run that matches an uninterrupted one exactly.
struct TrainingTests {
    /// Two Gaussian blobs in the plane, labels 0 and 1, linearly separable but for a little overlap.
    func blobs(count: Int, seed: UInt64) -> (features: Tensor<Double>, labels: Tensor<Double>) {
        var generator = SeededGenerator(seed: seed)
        var features: [Double] = [], labels: [Double] = []
        for i in 0..<count {
            let label = Double(i % 2)
            let center = label == 1 ? (2.0, 2.0) : (-2.0, -2.0)
            let noise = Tensor<Double>.randomNormal(shape: [2], using: &generator).scalars
            features += [center.0 + noise[0], center.1 + noise[1]]
            labels.append(label)
        }
        return (Tensor(shape: [count, 2], scalars: features), Tensor(shape: [count, 1], scalars: labels))
    }

    @Test func logisticRegressionLearnsTheBoundary() {
        // Lecture 000: p(y=1|x) = σ(w·x + w₀), trained by gradient descent on the cross-entropy.
        let (x, y) = blobs(count: 200, seed: 1)
        var model = Linear<Double>(inputSize: 2, outputSize: 1, initialization: .glorot, seed: 2)
        var optimizer = SGD<Double>(learningRate: 0.5)
        var losses: [Double] = []
        for _ in 0..<200 {
            let network = model
            let (loss, gradients) = valueWithGradient(at: model.parameters) { parameters in
                var m = network
                m.parameters = parameters
                return binaryCrossEntropy(logits: m(x), labels: y)
            }
            // The gradient of the mean cross-entropy is Xᵀ(σ(Xw + w₀) − y)/n: check it against that closed form.
            if losses.isEmpty {
                let residual = (sigmoid(network(x)) - y) / 200
                let expected = matmul(residual.transposed(), x)
                for (a, b) in zip(gradients[0].scalars, expected.scalars) { #expect(Swift.abs(a - b) < 1e-12) }
                #expect(Swift.abs(gradients[1].scalar - residual.sum().scalar) < 1e-12)
            }
            losses.append(loss.scalar)
            optimizer.update(&model.parameters, along: gradients)
        }
        #expect(losses.last! < 0.1 && losses.last! < losses.first! / 4, "loss went \(losses.first!) → \(losses.last!)")
        let predictions = sigmoid(model(x)).scalars.map { $0 > 0.5 ? 1.0 : 0.0 }
        #expect(accuracy(predictions: predictions.map { Int($0) }, labels: y.scalars.map { Int($0) }) >= 0.97)
    }

    @Test func squaredLossRegressionRecoversTheLine() {
        // y = 3x − 2 plus a little noise; a linear layer trained on the mean squared error finds (3, −2).
        var generator = SeededGenerator(seed: 5)
        let x = Tensor<Double>.randomUniform(shape: [100, 1], lowerBound: -2, upperBound: 2, using: &generator)
        let noise = Tensor<Double>.randomNormal(shape: [100, 1], standardDeviation: 0.01, using: &generator)
        let y = 3 * x - 2 + noise
        var model = Linear<Double>(inputSize: 1, outputSize: 1, seed: 6)
        var optimizer = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        for _ in 0..<300 {
            let network = model
            let gradients = gradient(at: model.parameters) { parameters in
                var m = network
                m.parameters = parameters
                return meanSquaredError(predicted: m(x), expected: y)
            }
            optimizer.update(&model.parameters, along: gradients)
        }
        #expect(Swift.abs(model.weight.scalar - 3) < 0.01)
        #expect(Swift.abs(model.bias!.scalar + 2) < 0.01)
    }

    /// A small slice of the digits so the debug-build test stays quick.
    func digitsSlice() throws -> (train: Dataset<Float>, test: Dataset<Float>) {
        let all = try Dataset<Float>.digits()
        return all.subset(Array(0..<400)).split(testFraction: 0.25, seed: 3)
    }

    @Test func sameSeedSameNumbers() throws {
        let (train, test) = try digitsSlice()
        let configuration = TrainingConfiguration(hiddenWidths: [16], dropout: 0.1, epochs: 3, seed: 11)
        var first = ClassifierTrainer<Float>(configuration: configuration, inputSize: 64, classCount: 10)
        var second = first
        try first.train(on: train, evaluatingOn: test)
        try second.train(on: train, evaluatingOn: test)
        #expect(first.model.parameters.map(\.scalars) == second.model.parameters.map(\.scalars))
        #expect(first.history.map(\.trainLoss) == second.history.map(\.trainLoss))
        #expect(first.history.last!.trainLoss < first.history.first!.trainLoss)
        var other = ClassifierTrainer<Float>(
            configuration: TrainingConfiguration(hiddenWidths: [16], dropout: 0.1, epochs: 3, seed: 12),
            inputSize: 64, classCount: 10)
        try other.train(on: train)
        #expect(other.model.parameters.map(\.scalars) != first.model.parameters.map(\.scalars))
    }

    @Test(arguments: [OptimizerChoice.adam, .nesterov, .rmsprop])
    func resumedRunMatchesUninterruptedRun(optimizer: OptimizerChoice) throws {
        let (train, test) = try digitsSlice()
        let configuration = TrainingConfiguration(
            hiddenWidths: [16], dropout: 0.1, epochs: 4, optimizer: optimizer, learningRate: 0.003,
            schedule: .step(epochs: 2, factor: 0.5), seed: 21)
        var uninterrupted = ClassifierTrainer<Float>(configuration: configuration, inputSize: 64, classCount: 10)
        try uninterrupted.train(on: train, evaluatingOn: test)

        var interrupted = ClassifierTrainer<Float>(configuration: configuration, inputSize: 64, classCount: 10)
        try interrupted.trainEpoch(on: train, evaluatingOn: test)
        try interrupted.trainEpoch(on: train, evaluatingOn: test)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try interrupted.checkpoint().save(to: url)
        var resumed = try ClassifierTrainer<Float>(resumingFrom: Checkpoint.load(from: url))
        #expect(resumed.completedEpochs == 2)
        #expect(resumed.optimizer.state.step == interrupted.optimizer.state.step)
        try resumed.train(on: train, evaluatingOn: test)
        #expect(resumed.model.parameters.map(\.scalars) == uninterrupted.model.parameters.map(\.scalars))
        #expect(resumed.history.map(\.trainLoss) == uninterrupted.history.map(\.trainLoss))
        #expect(resumed.history.map(\.learningRate) == uninterrupted.history.map(\.learningRate))
    }

    @Test func checkpointOfAnotherModelIsRejected() throws {
        let trainer = ClassifierTrainer<Float>(
            configuration: TrainingConfiguration(hiddenWidths: [8]), inputSize: 64, classCount: 10)
        var other = Sequential<Float>.multilayerPerceptron(widths: [64, 32, 10], seed: 0)
        #expect(throws: CheckpointError.self) { try trainer.checkpoint().apply(to: &other) }
        #expect(throws: CheckpointError.self) { try ClassifierTrainer<Float>(resumingFrom: Checkpoint(model: other)) }
    }

    @Test func curvesPlotIsAnSVGWithBothSeries() {
        let history = (1...5).map {
            EpochRecord(epoch: $0, learningRate: 0.001, trainLoss: 1 / Double($0), trainAccuracy: 0.5 + 0.05 * Double($0),
                        testLoss: 1.2 / Double($0), testAccuracy: 0.45 + 0.05 * Double($0), seconds: 0.1)
        }
        let svg = trainingCurvesSVG(history)
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.components(separatedBy: "<polyline").count == 5)
        #expect(svg.contains("Accuracy") && svg.contains("Loss"))
    }

    @Test func curvesOfHugeFiniteLossesArePlotted() {
        // Found by the train-flags fuzz target (issue #24): `train --lr 123372036857247807` trained to a finite
        // loss above Int.max, and the plot's axis labels trapped converting it to an Int.
        let history = (1...3).map {
            EpochRecord(epoch: $0, learningRate: 1e17, trainLoss: 3e19 * Double($0), trainAccuracy: 0.1,
                        testLoss: -Double.greatestFiniteMagnitude / 4, testAccuracy: 0.1, seconds: 0.1)
        }
        let svg = trainingCurvesSVG(history)
        #expect(svg.contains("e+307") && svg.hasSuffix("</svg>\n"))
    }
}

/// A run whose loss or gradients stop being finite stops at that batch, without applying its update.
@Suite struct DivergenceTests {
    @Test func hugeLearningRateStopsAtTheFirstNonFiniteBatch() throws {
        let (train, _) = try Dataset<Float>.digits().subset(Array(0..<200)).split(testFraction: 0.2, seed: 0)
        var trainer = ClassifierTrainer<Float>(
            configuration: TrainingConfiguration(hiddenWidths: [16], epochs: 2, batchSize: 32, optimizer: .sgd, learningRate: 1e30),
            inputSize: 64, classCount: 10)
        do {
            try trainer.train(on: train)
            Issue.record("training with lr 1e30 did not report a divergence")
        } catch let diverged as TrainingDiverged {
            #expect(diverged.epoch == 1)
            #expect(diverged.batch >= 2 && diverged.batch <= diverged.batches)
            #expect(trainer.history.isEmpty)
            #expect(String(describing: diverged).contains("epoch 1, batch \(diverged.batch)"))
        }
    }

    @Test func anomalyDetectionNamesThePrimitiveBehindIt() throws {
        let (train, _) = try Dataset<Float>.digits().subset(Array(0..<200)).split(testFraction: 0.2, seed: 0)
        var trainer = ClassifierTrainer<Float>(
            configuration: TrainingConfiguration(hiddenWidths: [16], epochs: 1, batchSize: 32, optimizer: .sgd, learningRate: 1e30),
            inputSize: 64, classCount: 10)
        do {
            _ = try withAnomalyDetection { try trainer.train(on: train) }
            Issue.record("no anomaly reported")
        } catch let anomaly as AnomalyDetected {
            #expect(!anomaly.primitive.isEmpty)
            #expect(anomaly.description.contains("non-finite"))
        }
    }
}
