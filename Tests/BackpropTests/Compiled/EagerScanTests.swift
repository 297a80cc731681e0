@testable import Backprop
import Testing

/// An eager `scan` compiles its body from one trace (as `lax.scan` does), falls back to the plain loop when the
/// body reads a traced value on the host, and reuses the program of an equal trace.
@Suite struct EagerScanTests {
    @Test func anEagerScanTracesItsBodyOnceAndEqualsTheLoop() {
        let calls = CallCounter()
        let xs = uniform([40, 3], -1, 1, seed: 5), w = uniform([3], 0.5, 1.5, seed: 6)
        func loss(_ a: [Tensor<Double>]) -> Tensor<Double> {
            let (carry, ys) = scan(initial: [a[0]], over: [xs], parameters: [a[1]]) { c, x, p in
                calls.count += 1
                let h = tanh(c[0] * p[0] + x[0])
                return ([h], [h.sum()])
            }
            return carry[0].sum() + (ys[0] * ys[0]).sum()
        }
        func unrolledLoss(_ a: [Tensor<Double>]) -> Tensor<Double> {
            var h = a[0], total = Tensor<Double>(0)
            for t in 0..<40 {
                h = tanh(h * a[1] + xs[t])
                total = total + h.sum() * h.sum()
            }
            return h.sum() + total
        }
        let a = [uniform([3], -1, 1, seed: 7), w]
        let (value, g) = valueWithGradient(at: a, of: loss)
        // The forward trace, and the reverse sweep's trace of the body inside its gradient: not once per step.
        #expect(calls.count <= 4)
        let (expectedValue, expectedGradient) = valueWithGradient(at: a, of: unrolledLoss)
        #expect(largestError([value] + g, [expectedValue] + expectedGradient) <= 1e-12)
    }

    @Test func aBodyThatReadsOnTheHostRunsAsALoop() {
        // The branch depends on each step's data: a program traced at the first step would be wrong later.
        let xs = Tensor<Double>([1, -2, 3, -4, 5])
        let (carry, _) = scan(initial: [Tensor<Double>(0)], over: [xs]) { c, x, _ in
            ([x[0].scalar > 0 ? c[0] + x[0] : c[0] - x[0]], [])
        }
        #expect(carry[0].scalar == 15)
        let g = gradient(at: xs) { xs in
            scan(initial: [Tensor<Double>(0)], over: [xs]) { c, x, _ in
                ([x[0].scalar > 0 ? c[0] + 2 * x[0] : c[0] - x[0]], [])
            }.carry[0]
        }
        #expect(g.scalars == [2, -1, 2, -1, 2])
    }

    @Test func theReverseSweepSeesTheForwardSweepsRandomDraws() {
        // loss(w) = Σ_t ⟨mask_t · x_t, w⟩ is linear in w, so its value is ⟨gradient, w⟩ exactly when the reverse
        // sweep uses the masks the forward sweep drew (a reverse sweep that ran the body again would draw others).
        let xs = uniform([30, 8], 0.5, 1.5, seed: 11), w = uniform([8], -1, 1, seed: 12)
        func loss(_ w: Tensor<Double>, _ stream: RandomStream) -> Tensor<Double> {
            scan(initial: [Tensor<Double>(0)], over: [xs], parameters: [w]) { c, x, p in
                let mask = Tensor<Double>.dropoutMask(shape: [8], dropProbability: 0.5, scale: 2, using: stream)
                return ([c[0] + (mask * x[0] * p[0]).sum()], [])
            }.carry[0]
        }
        let stream = RandomStream(seed: 3)
        let (value, g) = valueWithGradient(at: w) { loss($0, stream) }
        #expect(abs(value.scalar - (g * w).sum().scalar) <= 1e-12)
        let step = compiled { (w: Tensor<Double>) -> Tensor<Double> in
            let (value, g) = valueWithGradient(at: w) { loss($0, stream) }
            return value - (g * w).sum()
        }
        for _ in 0..<2 { #expect(abs(step(w).scalar) <= 1e-12) }
    }

    @Test func equalTracesShareOneProgramAndTheCacheIsBounded() {
        let cache = ProgramCache(capacity: 2)
        var made = 0
        func compile(scale: Double, shape: [Int] = [4]) {
            let trace = Trace<Double>(tentative: true)
            let x = trace.arguments([Tensor<Double>.ones(shape: shape)])[0]
            let y = withTracing(trace) { exp(x * Tensor(scale)) + 1 }
            let outputs = [trace.node(of: y)]
            trace.finish()
            _ = cache.compiled(for: trace, outputs: outputs, argumentCount: 1) {
                made += 1
                return Program(graph: optimized(Graph(trace, outputs: outputs, argumentCount: 1)))
            }
        }
        compile(scale: 2)
        compile(scale: 2)
        #expect(made == 1)
        compile(scale: 3)  // a different constant
        compile(scale: 2, shape: [5])  // a different shape
        #expect(made == 3)
        #expect(cache.count == 2)
        // A large constant is not copied into a key: such a trace compiles each time.
        let large = Tensor<Double>.ones(shape: [TraceKey.largestConstant + 1])
        for _ in 0..<2 {
            let trace = Trace<Double>(tentative: true)
            let x = trace.arguments([large])[0]
            let y = withTracing(trace) { x * large }
            let outputs = [trace.node(of: y)]
            trace.finish()
            _ = cache.compiled(for: trace, outputs: outputs, argumentCount: 1) {
                made += 1
                return Program(graph: optimized(Graph(trace, outputs: outputs, argumentCount: 1)))
            }
        }
        #expect(made == 5)
    }
}
