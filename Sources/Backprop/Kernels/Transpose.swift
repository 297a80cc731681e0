// Matrix transposes through the C kernels (register-blocked for Float and Double).
import CBackpropKernels

/// Writes the transpose of the rows×columns matrix at `x` (contiguous) to `z` (columns×rows, contiguous);
/// the two must not overlap.
func matrixTranspose<Scalar: TensorScalar>(rows: Int, columns: Int, _ x: UnsafePointer<Scalar>,
                                           _ z: UnsafeMutablePointer<Scalar>) {
    if Scalar.self == Float.self {
        bp_stranspose(rows, columns, kernelPointer(x, as: Float.self), columns, kernelPointer(z, as: Float.self), rows)
    } else if Scalar.self == Double.self {
        bp_dtranspose(rows, columns, kernelPointer(x, as: Double.self), columns, kernelPointer(z, as: Double.self), rows)
    } else {
        for r in 0..<rows {
            for c in 0..<columns { z[c * rows + r] = x[r * columns + c] }
        }
    }
}
