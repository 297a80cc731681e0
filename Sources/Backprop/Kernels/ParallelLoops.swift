// Large elementwise loops split across the cores, as GEMM splits large products.
import CBackpropKernels

/// Loops over at least this many elements are split across threads; shorter ones run on the calling thread
/// because waking workers costs more than it saves.
let elementwiseParallelThreshold = 1 << 16

/// Calls `body(range)` on consecutive chunks covering `0..<count`, on all cores when `count` is large.
/// `body` must only touch the elements of its range. The calling thread's kernel-path override (tests) is
/// carried to the workers.
func forEachChunk(count: Int, _ body: @Sendable (Range<Int>) -> Void) {
    let parts = Swift.min(parallelThreadCount, count / Swift.max(elementwiseParallelThreshold / 2, 1))
    guard count >= elementwiseParallelThreshold, parts >= 2 else {
        if count > 0 { body(0..<count) }
        return
    }
    let chunk = (count + parts - 1) / parts
    concurrentPerformKeepingKernelPath(iterations: parts) { part in
        let lower = part * chunk
        if lower < count { body(lower..<Swift.min(lower + chunk, count)) }
    }
}

/// Runs `body(0)` … `body(iterations - 1)` on the library's threads (`bp_parallel_run`: the calling thread
/// and persistent workers that start without a wake-up delay), with the calling thread's kernel-path
/// override (set by tests to exercise the portable or the AVX2 path) applied on every worker, so that a
/// split computation rounds as the caller's would.
package func concurrentPerformKeepingKernelPath(iterations: Int, _ body: @Sendable (Int) -> Void) {
    guard iterations > 0 else { return }
    let override = bp_kernels_avx2_override()
    withoutActuallyEscaping(body) { body in
        let job = ParallelJob(body: body, kernelPath: override)
        withExtendedLifetime(job) {
            bp_parallel_run(iterations, Int32(parallelThreadCount), { context, part in
                Unmanaged<ParallelJob>.fromOpaque(context!).takeUnretainedValue().run(part)
            }, Unmanaged.passUnretained(job).toOpaque())
        }
    }
}

/// A parallel job's body and the caller's kernel-path override, passed to the C pool as its context.
private final class ParallelJob: @unchecked Sendable {
    let body: @Sendable (Int) -> Void
    let kernelPath: Int32

    init(body: @escaping @Sendable (Int) -> Void, kernelPath: Int32) {
        self.body = body
        self.kernelPath = kernelPath
    }

    /// Runs one part on the current thread under the caller's kernel path.
    func run(_ part: Int) {
        let previous = bp_kernels_avx2_override()
        if kernelPath != previous { bp_kernels_set_use_avx2(kernelPath) }
        defer { if kernelPath != previous { bp_kernels_set_use_avx2(previous) } }
        body(part)
    }
}

/// Raw addresses of a loop's operands, shared with worker threads (each writes only its own range).
struct LoopPointers<Scalar>: @unchecked Sendable {
    let inputs: [UnsafePointer<Scalar>]
    let output: UnsafeMutablePointer<Scalar>
}
