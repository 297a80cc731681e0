import Backprop
import Dispatch
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Testing

/// The tape's behaviour: fan-out, long chains, the PyTorch-style API, scopes and threads.
@Suite struct EngineTests {
    @Test func fanOutSumsGradients() {
        // y = x·x + x: dy/dx = 2x + 1, the three uses of x summed.
        let g = gradient(at: Tensor<Double>(3)) { x in x * x + x }
        #expect(g.scalar == 7)
        let t = gradient(at: Tensor<Double>([1, 2, 3])) { x in (x * x + x).sum() }
        #expect(t.scalars == [3, 5, 7])
    }

    @Test func broadcastingIsUndoneInTheBackwardPass() {
        let m = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let (gm, gb) = gradient(at: m, Tensor<Double>([10, 20, 30])) { m, b in (m * b).sum() }
        #expect(gm.shape == [2, 3])
        #expect(gb.shape == [3])
        #expect(gb.scalars == [5, 7, 9])
        #expect(gm.scalars == [10, 20, 30, 10, 20, 30])
    }

    /// v = v + 0.001·sin(v), `n` links, with its value and derivative in closed form.
    func chain(_ n: Int) -> (value: Double, derivative: Double, reverse: (value: Tensor<Double>, gradient: Tensor<Double>)) {
        let reverse = valueWithGradient(at: Tensor<Double>(0.5)) { x in
            var v = x
            for _ in 0..<n { v = v + 0.001 * sin(v) }
            return v
        }
        var v = 0.5, d = 1.0
        for _ in 0..<n {
            d *= 1 + 0.001 * Double.cos(v)
            v = v + 0.001 * Double.sin(v)
        }
        return (v, d, reverse)
    }

    @Test func chainMatchesClosedForm() {
        let (v, d, reverse) = chain(10_000)
        #expect(Swift.abs(reverse.value.scalar - v) <= 1e-12 * Swift.abs(v))
        #expect(Swift.abs(reverse.gradient.scalar - d) <= 1e-12 * Swift.abs(d))
        #expect(d > 1e-4)
    }

    @Test func millionLinkChain() {
        // 10⁶ links (3·10⁶ nodes): no recursion, so no stack overflow. The derivative underflows toward 0.
        let (v, d, reverse) = chain(1_000_000)
        #expect(Swift.abs(reverse.value.scalar - v) <= 1e-9 * Swift.abs(v))
        #expect(Swift.abs(reverse.gradient.scalar - d) <= 1e-300)
    }

    @Test func pyTorchStyleGradientsAccumulateUntilCleared() {
        let w = Tensor<Double>([1, 2, 3]).requiringGradient()
        let x = Tensor<Double>([4, 5, 6])
        (w * x).sum().backward()
        #expect(w.grad?.scalars == [4, 5, 6])
        (w * w).sum().backward()
        #expect(w.grad?.scalars == [6, 9, 12])
        w.clearGradient()
        #expect(w.grad == nil)
        let s = Tensor<Double>(2).requiringGradient()
        (s * s * s).backward()
        #expect(s.grad?.scalar == 12)
    }

    @Test func separateBranchesOfLeavesShareOneGraph() {
        let w1 = Tensor<Double>([1, 2]).requiringGradient()
        let w2 = Tensor<Double>([3, 4]).requiringGradient()
        let loss = (w1 * w1).sum() + (w2 * 2).sum()
        loss.backward()
        #expect(w1.grad?.scalars == [2, 4])
        #expect(w2.grad?.scalars == [2, 2])
    }

    @Test func withoutRecordingAndDetachedStopGradients() {
        let w = Tensor<Double>([1, 2]).requiringGradient()
        let y = withoutRecording { w * 3 }
        #expect(!y.isTracked)
        let g = gradient(at: Tensor<Double>(2)) { x in x * x.detached() }
        #expect(g.scalar == 2)
        #expect(isRecording)
    }

    @Test func functionalGradientsDoNotTouchLeafGradients() {
        let w = Tensor<Double>(3).requiringGradient()
        let g = gradient(at: Tensor<Double>(2)) { x in x * w }
        #expect(g.scalar == 3)
        #expect(w.grad == nil)
    }

    @Test func gradientOfAnArray() {
        let xs = [Tensor<Double>(1), Tensor<Double>([2, 3]), Tensor<Double>(shape: [1, 2], scalars: [4, 5])]
        let (value, g) = valueWithGradient(at: xs) { xs in xs[0] * xs[1].sum() * xs[2].sum() }
        #expect(value.scalar == 45)
        #expect(g[0].scalar == 45)
        #expect(g[1].scalars == [9, 9])
        #expect(g[2].scalars == [5, 5])
    }

    @Test func constantFunctionHasZeroGradient() {
        let g = gradient(at: Tensor<Double>([1, 2])) { _ in Tensor<Double>(5) }
        #expect(g.scalars == [0, 0])
    }

    @Test func floatTensorsDifferentiateToo() {
        let g = gradient(at: Tensor<Float>([1, 2, 3])) { x in (x * x).sum() }
        #expect(g.scalars == [2, 4, 6])
    }

    @Test func threadsComputeTheSameGradientsAsOneAtATime() {
        @Sendable func work(_ seed: Int) -> [Double] {
            let x = Tensor<Double>.randomNormal(shape: [8, 8], seed: UInt64(seed))
            let w = Tensor<Double>.randomNormal(shape: [8, 8], seed: UInt64(seed + 100))
            let (gx, gw) = gradient(at: x, w) { x, w in tanh(matmul(x, w)).softmax().sum() + (x * w).mean() }
            var v = Tensor<Double>(0.1 * Double(seed))
            let chain = gradient(at: v) { x in
                v = x
                for _ in 0..<2000 { v = v + 0.01 * sin(v) }
                return v
            }
            return gx.scalars + gw.scalars + [chain.scalar]
        }
        let sequential = (0..<16).map(work)
        let results = ResultBox(count: 16)
        DispatchQueue.concurrentPerform(iterations: 16) { i in results.set(i, work(i)) }
        #expect(results.values == sequential)
    }

    @Test func shapeMismatchNamesTheOperationAndShapes() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros(shape: [2, 3]) + Tensor<Double>.zeros(shape: [4])
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("add: shapes [2, 3] and [4] cannot be broadcast together"))
        }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Double>.zeros(shape: [2, 3]), Tensor<Double>.zeros(shape: [4, 5]))
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("matmul: inner dimensions differ, shapes [2, 3] and [4, 5]"))
        }
    }
}

/// Collects per-thread results under a lock.
final class ResultBox: @unchecked Sendable {
    private var storage: [[Double]]
    private let lock = NSLockLike()
    init(count: Int) { storage = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [Double]) { lock.withLock { storage[i] = v } }
    var values: [[Double]] { lock.withLock { storage } }
}

/// A minimal lock over a pthread mutex, so the test needs no Foundation.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func withLock<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
