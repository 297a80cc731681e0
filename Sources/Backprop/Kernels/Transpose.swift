// Matrix transposes through the scalar type's kernel (register-blocked C for Float and Double).

/// Writes the transpose of the rows×columns matrix at `x` (contiguous) to `z` (columns×rows, contiguous);
/// the two must not overlap.
func matrixTranspose<Scalar: TensorScalar>(rows: Int, columns: Int, _ x: UnsafePointer<Scalar>,
                                           _ z: UnsafeMutablePointer<Scalar>) {
    Scalar._transpose(rows: rows, columns: columns, x, z)
}
