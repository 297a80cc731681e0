import Backprop
import BackpropNN
import Testing

/// Layers and losses under the higher-order transforms: they are compositions of primitives, so every
/// transform applies to them; these tests make sure of it against finite differences.
@Suite struct HigherOrderLayerTests {
    let layer = Linear<Double>(
        weight: Tensor.randomUniform(shape: [4, 3], lowerBound: -1, upperBound: 1, seed: 1),
        bias: Tensor.randomUniform(shape: [4], lowerBound: -1, upperBound: 1, seed: 2))
    let x = Tensor<Double>([[0.3, -0.2, 0.5]].flatMap { $0 }).reshaped(to: [1, 3])

    /// The largest relative error between two tensors of one shape.
    func error(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($0), Swift.abs($1)) }.max() ?? 0
    }

    @Test func jacobianOfLinearAndTanhByBothModesMatchesFiniteDifferences() {
        let f: (Tensor<Double>) -> Tensor<Double> = { tanh(layer($0)) }
        let forward = jacobian(at: x, mode: .forward, of: f), reverse = jacobian(at: x, mode: .reverse, of: f)
        #expect(forward.shape == [1, 4, 1, 3])
        #expect(error(forward, reverse) < 1e-15)
        // Column k by central differences.
        let h = 1e-6
        var columns: [Tensor<Double>] = []
        for k in 0..<3 {
            var e = [Double](repeating: 0, count: 3)
            e[k] = h
            let step = Tensor(shape: [1, 3], scalars: e)
            columns.append(((f(x + step) - f(x - step)) / (2 * h)).reshaped(to: [4]))
        }
        let estimate = Tensor(stacking: columns, alongAxis: 1).reshaped(to: [1, 4, 1, 3])
        #expect(error(forward, estimate) < 1e-8)
    }

    @Test func everyLossAndLayerHasSecondDerivatives() {
        // Hessian-vector products with respect to the parameters of a small network, for each loss,
        // against central differences of the gradient.
        var model = Sequential<Double>(
            Linear<Double>(weight: Tensor.randomUniform(shape: [5, 3], lowerBound: -1, upperBound: 1, seed: 3),
                           bias: Tensor.randomUniform(shape: [5], lowerBound: -1, upperBound: 1, seed: 4)),
            Tanh<Double>(), Sigmoid<Double>(),
            Linear<Double>(weight: Tensor.randomUniform(shape: [2, 5], lowerBound: -1, upperBound: 1, seed: 5),
                           bias: Tensor.randomUniform(shape: [2], lowerBound: -1, upperBound: 1, seed: 6)))
        let inputs = Tensor<Double>.randomUniform(shape: [4, 3], lowerBound: -1, upperBound: 1, seed: 7)
        let targets = Tensor<Double>.randomUniform(shape: [4, 2], lowerBound: 0, upperBound: 1, seed: 8)
        let labels = [0, 1, 1, 0]
        let losses: [(String, (Tensor<Double>, [Tensor<Double>]) -> Tensor<Double>)] = [
            ("softmax cross-entropy", { logits, _ in softmaxCrossEntropy(logits: logits, labels: labels) }),
            ("mean squared error", { logits, _ in meanSquaredError(predicted: logits, expected: targets) }),
            ("binary cross-entropy", { logits, _ in binaryCrossEntropy(logits: logits, labels: targets) }),
            ("l2 penalty", { logits, p in logits.mean() + l2Penalty(p, strength: 0.1) }),
        ]
        let network = model
        let v = network.parameters.enumerated().map {
            Tensor<Double>.randomUniform(shape: $1.shape, lowerBound: -1, upperBound: 1, seed: 20 + UInt64($0))
        }
        for (name, loss) in losses {
            let objective: ([Tensor<Double>]) -> Tensor<Double> = { p in
                var m = network
                m.parameters = p
                return loss(m(inputs), p)
            }
            let hv = hessianVectorProduct(at: network.parameters, along: v, of: objective)
            let h = 1e-5
            let plus = gradient(at: zip(network.parameters, v).map { $0 + h * $1 }, of: objective)
            let minus = gradient(at: zip(network.parameters, v).map { $0 - h * $1 }, of: objective)
            for (i, (a, b)) in zip(plus, minus).enumerated() {
                #expect(error(hv[i], (a - b) / (2 * h)) < 1e-6, "\(name), parameter \(i)")
            }
        }
        model.parameters = network.parameters
    }
}
