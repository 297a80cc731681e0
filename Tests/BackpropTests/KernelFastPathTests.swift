import Backprop
import Testing

/// The tensor operations that take the vectorised C kernels (bias rows, column sums, ReLU) give the same
/// values and gradients as the elementwise definitions.
@Suite struct KernelFastPathTests {
    @Test func biasAddedToRowsInEitherOrder() {
        let x = Tensor<Float>.randomNormal(shape: [2, 3, 37], seed: 1)
        let b = Tensor<Float>.randomNormal(shape: [37], seed: 2)
        let xs = x.scalars, bs = b.scalars
        let expected = (0..<xs.count).map { xs[$0] + bs[$0 % 37] }
        #expect((x + b).scalars == expected)
        #expect((b + x).scalars == expected)
        #expect((x + b).shape == [2, 3, 37])
    }

    @Test func biasGradientIsTheColumnSum() {
        let x = Tensor<Double>.randomNormal(shape: [5, 19], seed: 3)
        let b = Tensor<Double>.randomNormal(shape: [19], seed: 4)
        let weights = Tensor<Double>.randomNormal(shape: [5, 19], seed: 5)
        let (_, g) = valueWithGradient(at: x, b) { x, b in ((x + b) * weights).sum() }
        let w = weights.scalars
        let expected = (0..<19).map { j in (0..<5).reduce(0.0) { $0 + w[$1 * 19 + j] } }
        for (got, want) in zip(g.1.scalars, expected) { #expect(Swift.abs(got - want) <= 1e-12) }
        #expect(g.0.scalars == w)
    }

    @Test func reluKeepsNaNAndMasksTheGradient() {
        let x = Tensor<Float>(shape: [6], scalars: [-2, -0.0, 0, 3, .nan, 1e-30])
        let y = relu(x)
        #expect(Array(y.scalars[0..<4]) == [0, 0, 0, 3])
        #expect(y.scalars[4].isNaN)
        #expect(y.scalars[5] == 1e-30)
        #expect(relu(Tensor<Float>(.nan)).scalar.isNaN)
        let upstream = Tensor<Float>(shape: [6], scalars: [.infinity, 1, 1, 2, 5, 7])
        let (_, g) = valueWithGradient(at: x) { (relu($0) * upstream).sum() }
        #expect(g.scalars == [0, 0, 0, 2, 0, 7])
    }
}
