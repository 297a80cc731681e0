// Matrix multiplication for the library: Swift entry points over the C GEMM kernels (bp_sgemm / bp_dgemm),
// splitting large products across the machine's cores.
import CBackpropKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Products with at least this many multiply-adds (m·n·k) are split across threads; smaller ones run on the
/// calling thread because waking workers costs more than it saves.
let gemmParallelThreshold = 1 << 21

/// The same threshold for products of fewer than 12 rows, which read B once per row from memory rather than
/// from cache: splitting their columns halves the memory each core streams.
let narrowGemmParallelThreshold = 1 << 18

/// The signature shared by bp_sgemm and bp_dgemm, for one generic splitting routine.
typealias GemmKernel<Scalar> = @Sendable (
    Int32, Int32, Int, Int, Int, Scalar, UnsafePointer<Scalar>?, Int, UnsafePointer<Scalar>?, Int, Scalar,
    UnsafeMutablePointer<Scalar>?, Int
) -> Void

/// Bit patterns of the operands, so worker closures can carry them across threads.
private struct GemmOperands: @unchecked Sendable {
    let a: UnsafeRawPointer
    let b: UnsafeRawPointer
    let c: UnsafeMutableRawPointer
}

/// Checks the shapes and strides, then runs `kernel` on the whole product or on row/column blocks in parallel.
private func runGemm<Scalar: Sendable>(
    _ kernel: GemmKernel<Scalar>, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Scalar,
    a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int, beta: Scalar,
    c: UnsafeMutablePointer<Scalar>, ldc: Int
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
    precondition(lda >= (transposeA ? m : k), "gemm: lda \(lda) smaller than a row of the stored A")
    precondition(ldb >= (transposeB ? k : n), "gemm: ldb \(ldb) smaller than a row of the stored B")
    precondition(ldc >= n, "gemm: ldc \(ldc) smaller than a row of C")
    let ta: Int32 = transposeA ? 1 : 0
    let tb: Int32 = transposeB ? 1 : 0
    // m·n·k, saturating instead of trapping on overflow.
    let (mn, mnOverflow) = m.multipliedReportingOverflow(by: n)
    let (mnk, mnkOverflow) = mn.multipliedReportingOverflow(by: k)
    let work = mnOverflow || mnkOverflow ? Int.max : mnk
    // Split the longer side of C, in multiples of the micro-tiles (32 columns or 12 rows, which the AVX2
    // tiles of 16 and 6 also divide) so no block gets a needlessly ragged edge.
    let splitColumns = n >= m
    let unit = splitColumns ? 32 : 12
    let length = splitColumns ? n : m
    let parts = min(parallelThreadCount, length / unit)
    // A product of few rows streams all of B from memory for little arithmetic: two cores each reading
    // half of B finish sooner even when the product is small.
    let threshold = m < 12 ? narrowGemmParallelThreshold : gemmParallelThreshold
    guard work >= threshold, parts >= 2 else {
        kernel(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    }
    let blockLength = (length + parts - 1) / parts
    let block = (blockLength + unit - 1) / unit * unit
    let operands = GemmOperands(a: UnsafeRawPointer(a), b: UnsafeRawPointer(b), c: UnsafeMutableRawPointer(c))
    concurrentPerformKeepingKernelPath(iterations: parts) { part in
        let start = part * block
        let count = min(block, length - start)
        guard count > 0 else { return }
        let a = operands.a.assumingMemoryBound(to: Scalar.self)
        let b = operands.b.assumingMemoryBound(to: Scalar.self)
        let c = operands.c.assumingMemoryBound(to: Scalar.self)
        if splitColumns {
            // Columns start..<start+count of C use the same columns of op(B).
            let bBlock = transposeB ? b + start * ldb : b + start
            kernel(ta, tb, m, count, k, alpha, a, lda, bBlock, ldb, beta, c + start, ldc)
        } else {
            // Rows start..<start+count of C use the same rows of op(A).
            let aBlock = transposeA ? a + start : a + start * lda
            kernel(ta, tb, count, n, k, alpha, aBlock, lda, b, ldb, beta, c + start * ldc, ldc)
        }
    }
}

/// The operand addresses of a batched product, shared with worker threads.
struct BatchPointers<Scalar>: @unchecked Sendable {
    let a: UnsafePointer<Scalar>
    let b: UnsafePointer<Scalar>
    let c: UnsafeMutablePointer<Scalar>
}

/// Runs `body(i)` for each entry `i` of a batch of `batch` products of m×n×k multiply-adds: one after another
/// when gemm splits each product across the cores itself, else spread over the cores by entry when all of them
/// together are big enough to split (an attention block's heads: 32 products of 128×64×128). The eager batched
/// product and a compiled program's product steps both run their batches through here.
func forEachBatchedProduct(batch: Int, m: Int, n: Int, k: Int, _ body: @Sendable (Int) -> Void) {
    let (nk, nkOverflow) = n.multipliedReportingOverflow(by: k)
    let (each, eachOverflow) = m.multipliedReportingOverflow(by: nk)
    let (all, allOverflow) = each.multipliedReportingOverflow(by: batch)
    let parts = min(parallelThreadCount, batch)
    if !nkOverflow && !eachOverflow && each < gemmParallelThreshold && (allOverflow || all >= gemmParallelThreshold)
        && parts >= 2
    {
        concurrentPerformKeepingKernelPath(iterations: parts) { part in
            for i in stride(from: part, to: batch, by: parts) { body(i) }
        }
    } else {
        for i in 0..<batch { body(i) }
    }
}

/// C = alpha * op(A) * op(B) + beta * C (row-major, single precision).
///
/// op(A) is m×k: A is stored m×k with row stride `lda`, or k×m when `transposeA`. op(B) is k×n: B is stored
/// k×n with row stride `ldb`, or n×k when `transposeB`. C is m×n with row stride `ldc`. When `beta` is 0 the
/// old contents of C are ignored (NaNs there do not propagate). Large products use all cores.
func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    runGemm(bp_sgemm, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

/// C = alpha * op(A) * op(B) + beta * C (row-major, double precision); see the `Float` version.
func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
          a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
          beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
    runGemm(bp_dgemm, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

/// C = alpha * op(A) * op(B) + beta * C for generic code: the scalar type's `_gemm` (the `Float` or `Double`
/// version above).
func gemm<Scalar: TensorScalar>(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Scalar,
                                a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int,
                                beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int) {
    Scalar._gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                 b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}
