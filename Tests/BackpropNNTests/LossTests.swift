import BackpropNN
import Testing

/// Losses: values against hand-computed ones, gradients against finite differences.
struct LossTests {
    @Test func meanSquaredErrorValueAndGradient() {
        let p = Tensor<Double>([1, 2, 4]), e = Tensor<Double>([1, 0, 1])
        #expect(meanSquaredError(predicted: p, expected: e).scalar == (0 + 4 + 9) / 3.0)
        let g = gradient(at: p) { meanSquaredError(predicted: $0, expected: e) }
        #expect(g.scalars == [0, 4.0 / 3, 2])
    }

    @Test func binaryCrossEntropyIsStableAndMatchesTheDefinition() {
        let z = Tensor<Double>([-2, 0.5, 3]), y = Tensor<Double>([0, 1, 1])
        func sigma(_ v: Double) -> Double { 1 / (1 + Double.exp(-v)) }
        let expected = [(-2.0, 0.0), (0.5, 1.0), (3.0, 1.0)].map { v, t in
            -(t * Double.log(sigma(v)) + (1 - t) * Double.log(1 - sigma(v)))
        }.reduce(0, +) / 3
        #expect(Swift.abs(binaryCrossEntropy(logits: z, labels: y).scalar - expected) < 1e-15)
        // Confident logits stay finite where the naive formula gives log(0).
        let extreme = binaryCrossEntropy(logits: Tensor<Double>([800, -800]), labels: Tensor<Double>([0, 1]))
        #expect(extreme.scalar == 800)
        let g = gradient(at: z) { binaryCrossEntropy(logits: $0, labels: y) }
        for (i, v) in [-2.0, 0.5, 3].enumerated() {
            #expect(Swift.abs(g.scalars[i] - (sigma(v) - y.scalars[i]) / 3) < 1e-15)
        }
    }

    @Test func softmaxCrossEntropyGradientIsSoftmaxMinusOneHot() {
        let logits = Tensor<Double>.randomNormal(shape: [4, 5], seed: 3)
        let labels = [0, 4, 2, 2]
        let reference = -(logits.logSoftmax(alongAxis: 1) * oneHot(labels, classes: 5)).sum() / 4
        #expect(Swift.abs(softmaxCrossEntropy(logits: logits, labels: labels).scalar - reference.scalar) < 1e-14)
        let check = checkGradients(at: [logits]) { xs in softmaxCrossEntropy(logits: xs[0], labels: labels) }
        #expect(check.passes(tolerance: 1e-7), "max relative error \(check.maxRelativeError)")
        // Huge logits: still finite.
        let big = Tensor<Double>(shape: [1, 2], scalars: [1000, -1000])
        #expect(softmaxCrossEntropy(logits: big, labels: [1]).scalar == 2000)
    }

    @Test func l2PenaltyGradientIsStrengthTimesParameter() {
        let w = Tensor<Double>([1, -2]), v = Tensor<Double>([3])
        #expect(l2Penalty([w, v], strength: 0.5).scalar == 0.25 * 14)
        let g = gradient(at: [w, v]) { l2Penalty($0, strength: 0.5) }
        #expect(g[0].scalars == [0.5, -1])
        #expect(g[1].scalars == [1.5])
    }

    func oneHot(_ labels: [Int], classes: Int) -> Tensor<Double> {
        var values = [Double](repeating: 0, count: labels.count * classes)
        for (row, label) in labels.enumerated() { values[row * classes + label] = 1 }
        return Tensor(shape: [labels.count, classes], scalars: values)
    }
}
