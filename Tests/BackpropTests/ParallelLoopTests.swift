@testable import Backprop
import CBackpropKernels
import Dispatch
import Testing

/// A counter per part, written by the part that owns the slot.
private final class PartCounts: @unchecked Sendable {
    let slots: UnsafeMutablePointer<Int>
    let count: Int

    init(_ count: Int) {
        self.count = count
        slots = .allocate(capacity: Swift.max(count, 1))
        slots.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    deinit { slots.deallocate() }

    var values: [Int] { (0..<count).map { slots[$0] } }
}

/// The library's parallel loops (`bp_parallel_run` under `concurrentPerformKeepingKernelPath`): every part
/// runs exactly once, whether the pool is free, busy with an enclosing job, or shared by several threads.
@Suite struct ParallelLoopTests {
    @Test func everyPartRunsOnce() {
        for parts in [1, 2, 3, 7, 64, 1000] {
            for _ in 0..<20 {
                let counts = PartCounts(parts)
                concurrentPerformKeepingKernelPath(iterations: parts) { counts.slots[$0] += 1 }
                #expect(counts.values == [Int](repeating: 1, count: parts), "\(parts) parts")
            }
        }
        // No parts: nothing runs, nothing waits.
        concurrentPerformKeepingKernelPath(iterations: 0) { _ in Issue.record("a part ran for 0 iterations") }
    }

    @Test func nestedCallsRunOnTheCallingThread() {
        let outer = 4, inner = 16
        let counts = PartCounts(outer * inner)
        concurrentPerformKeepingKernelPath(iterations: outer) { i in
            concurrentPerformKeepingKernelPath(iterations: inner) { j in counts.slots[i * inner + j] += 1 }
        }
        #expect(counts.values == [Int](repeating: 1, count: outer * inner))
    }

    @Test func concurrentCallersEachGetTheirOwnJob() {
        // Eight application threads dispatching at once: one holds the pool, the others run their parts
        // themselves; every caller sees all of its own parts and none of another's.
        let callers = 8, rounds = 200, parts = 5
        let counts = PartCounts(callers * rounds * parts)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for round in 0..<rounds {
                let base = (caller * rounds + round) * parts
                concurrentPerformKeepingKernelPath(iterations: parts) { counts.slots[base + $0] += 1 }
            }
        }
        #expect(counts.values == [Int](repeating: 1, count: callers * rounds * parts))
    }

    @Test func workersUseTheCallersKernelPath() {
        for path: Int32 in [0, 1] {
            bp_kernels_set_use_avx2(path)
            defer { bp_kernels_set_use_avx2(-1) }
            let seen = PartCounts(32)
            concurrentPerformKeepingKernelPath(iterations: 32) { seen.slots[$0] = Int(bp_kernels_avx2_override()) }
            #expect(seen.values == [Int](repeating: Int(path), count: 32), "override \(path)")
        }
    }

    @Test func largeElementwiseLoopsSplitAndMatch() {
        // Long enough to be split: the parallel result equals the one-thread formula element by element.
        let n = 1 << 18
        let x = Tensor<Float>(shape: [n], scalars: (0..<n).map { Float($0 % 97) / 13 })
        let y = (x * x + 1).scalars
        #expect(y == x.scalars.map { $0 * $0 + 1 })
    }
}
