/// C = alpha · op(A) · op(B) + beta · C for row-major matrices, where op(X) is X or Xᵀ.
///
/// A straightforward cache-friendly loop (i-k-j order); the optimised kernels replace it.
func gemm<Scalar: TensorScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Scalar,
    a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int,
    beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int
) {
    for i in 0..<m {
        let row = c + i * ldc
        if beta == 0 {
            for j in 0..<n { row[j] = 0 }
        } else if beta != 1 {
            for j in 0..<n { row[j] *= beta }
        }
        for p in 0..<k {
            let av = alpha * (transposeA ? a[p * lda + i] : a[i * lda + p])
            if transposeB {
                for j in 0..<n { row[j] += av * b[j * ldb + p] }
            } else {
                let bRow = b + p * ldb
                for j in 0..<n { row[j] += av * bRow[j] }
            }
        }
    }
}
