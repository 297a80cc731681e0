import Backprop
import Testing

/// Every primitive's reverse-mode gradient against central finite differences in float64, broadcasting
/// cases included.
@Suite struct GradientCheckTests {
    let a = Tensor<Double>.randomUniform(shape: [3, 4], lowerBound: 0.5, upperBound: 2, seed: 11)
    let b = Tensor<Double>.randomUniform(shape: [3, 4], lowerBound: 0.5, upperBound: 2, seed: 12)
    let row = Tensor<Double>.randomUniform(shape: [4], lowerBound: 0.5, upperBound: 2, seed: 13)
    let column = Tensor<Double>.randomUniform(shape: [3, 1], lowerBound: 0.5, upperBound: 2, seed: 14)
    let signed = Tensor<Double>.randomNormal(shape: [3, 4], seed: 15)

    func expectGradients(_ inputs: [Tensor<Double>], tolerance: Double = 1e-7, _ f: @escaping ([Tensor<Double>]) -> Tensor<Double>) {
        // A random weighting makes every output element matter differently.
        let result = checkGradients(at: inputs) { xs in
            let y = f(xs)
            let weights = Tensor<Double>.randomUniform(shape: y.shape, lowerBound: -1, upperBound: 1, seed: 99)
            return (y * weights).sum()
        }
        #expect(result.passes(tolerance: tolerance), "\(result)")
    }

    @Test func arithmeticWithBroadcasting() {
        for other in [b, row, column, Tensor(1.7)] {
            expectGradients([a, other]) { $0[0] + $0[1] }
            expectGradients([a, other]) { $0[0] - $0[1] }
            expectGradients([a, other]) { $0[0] * $0[1] }
            expectGradients([a, other]) { $0[0] / $0[1] }
            expectGradients([other, a]) { $0[0] / $0[1] }
            expectGradients([a, other]) { pow($0[0], $0[1]) }
            expectGradients([signed, other]) { max($0[0], $0[1]) }
            expectGradients([signed, other]) { min($0[0], $0[1]) }
        }
        expectGradients([a]) { 3 - $0[0] * 2 + 1 / $0[0] }
        expectGradients([a]) { -$0[0] }
    }

    @Test func elementaryFunctions() {
        expectGradients([a]) { sqrt($0[0]) }
        expectGradients([signed]) { exp($0[0]) }
        expectGradients([a]) { log($0[0]) }
        expectGradients([signed]) { sin($0[0]) }
        expectGradients([signed]) { cos($0[0]) }
        expectGradients([signed * 0.3]) { tan($0[0]) }
        expectGradients([signed]) { tanh($0[0]) }
        expectGradients([signed]) { sigmoid($0[0]) }
        expectGradients([signed]) { erf($0[0]) }
        expectGradients([signed]) { relu($0[0]) }
        expectGradients([signed]) { abs($0[0]) }
        expectGradients([signed]) { pow($0[0], 3) }
    }

    @Test func errorFunctionValues() {
        // erf(±0.5), erf(2) and erf(0) from tables; Float and Double, tensors and scalars.
        let x = Tensor<Double>([-0.5, 0, 0.5, 2])
        let expected = [-0.5204998778130465, 0, 0.5204998778130465, 0.9953222650189527]
        for (value, exact) in zip(erf(x).scalars, expected) { #expect(Swift.abs(value - exact) < 1e-15) }
        for (value, exact) in zip(erf(x.converted(to: Float.self)).scalars, expected) { #expect(Swift.abs(Double(value) - exact) < 1e-7) }
        #expect(Swift.abs(erf(Tensor<Double>(0.5)).scalar - expected[2]) < 1e-15)
    }

    @Test func scalarGraphsAgreeWithTensorGraphs() {
        let x = Tensor<Double>(0.7)
        expectGradients([x, Tensor(1.3)]) { xs in
            let (u, v) = (xs[0], xs[1])
            return sigmoid(u * v) + tanh(u) / (1 + v * v) - relu(u - v) + max(u, v) * sqrt(v) + abs(u) * log(v)
        }
    }

    @Test func reductions() {
        expectGradients([a]) { $0[0].sum() }
        expectGradients([a]) { $0[0].mean() }
        expectGradients([signed]) { $0[0].max() }
        for axes in [[0], [1], [-1], [0, 1]] {
            expectGradients([a]) { $0[0].sum(alongAxes: axes) }
            expectGradients([a]) { $0[0].sum(alongAxes: axes, keepingDimensions: true) }
            expectGradients([a]) { $0[0].mean(alongAxes: axes) }
            expectGradients([signed]) { $0[0].max(alongAxes: axes) }
        }
        let cube = Tensor<Double>.randomNormal(shape: [2, 3, 4], seed: 5)
        expectGradients([cube]) { $0[0].sum(alongAxes: [0, 2], keepingDimensions: true) }
        expectGradients([cube]) { $0[0].max(alongAxes: 1) }
    }

    @Test func softmaxAndLogSoftmax() {
        for axis in [0, 1, -1] {
            expectGradients([signed]) { $0[0].softmax(alongAxis: axis) }
            expectGradients([signed]) { $0[0].logSoftmax(alongAxis: axis) }
        }
        let cube = Tensor<Double>.randomNormal(shape: [2, 3, 4], seed: 6)
        expectGradients([cube]) { $0[0].softmax(alongAxis: 1) }
    }

    @Test func matrixProducts() {
        let m = Tensor<Double>.randomNormal(shape: [3, 5], seed: 21)
        let n = Tensor<Double>.randomNormal(shape: [5, 2], seed: 22)
        expectGradients([m, n]) { matmul($0[0], $0[1]) }
        let batchA = Tensor<Double>.randomNormal(shape: [2, 3, 5], seed: 23)
        let batchB = Tensor<Double>.randomNormal(shape: [2, 5, 2], seed: 24)
        expectGradients([batchA, batchB]) { matmul($0[0], $0[1]) }
        expectGradients([batchA, n]) { matmul($0[0], $0[1]) }
    }

    @Test(arguments: [(false, true), (true, false), (true, true)])
    func transposedMatrixProducts(transposeA: Bool, transposeB: Bool) {
        let a = Tensor<Double>.randomNormal(shape: transposeA ? [5, 3] : [3, 5], seed: 25)
        let b = Tensor<Double>.randomNormal(shape: transposeB ? [2, 5] : [5, 2], seed: 26)
        let product = matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        let reference = matmul(transposeA ? a.transposed() : a, transposeB ? b.transposed() : b)
        #expect(product.shape == [3, 2])
        for (x, y) in zip(product.scalars, reference.scalars) { #expect(Swift.abs(x - y) < 1e-12) }
        expectGradients([a, b]) { matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
    }

    @Test func shapeOperations() {
        let cube = Tensor<Double>.randomNormal(shape: [2, 3, 4], seed: 31)
        expectGradients([cube]) { $0[0].reshaped(to: [6, -1]) }
        expectGradients([cube]) { $0[0].transposed() }
        expectGradients([cube]) { $0[0].transposed(permutation: [1, 0, 2]) }
        expectGradients([a]) { $0[0].transposed() }
        expectGradients([column]) { $0[0].broadcasted(to: [2, 3, 4]) }
        expectGradients([column]) { $0[0].squeezed() }
        expectGradients([row]) { $0[0].expandingShape(at: 0) }
        expectGradients([cube]) { $0[0].slicing(1..<3, alongAxis: 1) }
        expectGradients([cube]) { $0[0][1] }
        expectGradients([a]) { $0[0].gathering(atIndices: [2, 0, 2]) }
        expectGradients([cube]) { $0[0].gathering(atIndices: [3, 1], alongAxis: 2) }
        expectGradients([a, b]) { Tensor(concatenating: [$0[0], $0[1]], alongAxis: 1) }
        expectGradients([a, b]) { Tensor(stacking: [$0[0], $0[1]], alongAxis: 1) }
    }
}
