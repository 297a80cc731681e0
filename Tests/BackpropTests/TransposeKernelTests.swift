@testable import Backprop
import Testing

/// The transpose of the last two axes (the register-blocked C kernel) against a naive index walk, on every
/// kernel path this machine has, for shapes with full 8×8 / 4×4 blocks, ragged edges and single rows.
@Suite struct TransposeKernelTests {
    static let shapes: [[Int]] = [[1, 1], [3, 5], [8, 8], [2, 17, 33], [3, 64, 9], [40, 40], [1, 7], [9, 1], [2, 16, 784]]

    /// out[b][c][r] = in[b][r][c], exactly.
    func check<Scalar: TensorScalar>(_ shape: [Int], as _: Scalar.Type) {
        let x = Tensor<Scalar>.randomNormal(shape: shape, seed: UInt64(shape.reduce(1, *)))
        let rank = shape.count
        let rows = shape[rank - 2], cols = shape[rank - 1], batch = shape.dropLast(2).reduce(1, *)
        let permutation = Array(0..<(rank - 2)) + [rank - 1, rank - 2]
        let y = x.transposed(permutation: permutation)
        let xs = x.scalars
        var expected = [Scalar](repeating: 0, count: xs.count)
        for b in 0..<batch {
            for r in 0..<rows {
                for c in 0..<cols { expected[b * rows * cols + c * rows + r] = xs[b * rows * cols + r * cols + c] }
            }
        }
        #expect(y.shape == permutation.map { shape[$0] })
        #expect(y.scalars == expected, "transpose of \(shape) as \(Scalar.self)")
    }

    @Test(arguments: testableKernelPaths)
    func matchesNaiveTranspose(path: KernelPath) {
        withKernelPath(path) {
            for shape in Self.shapes {
                check(shape, as: Float.self)
                check(shape, as: Double.self)
            }
        }
    }
}
