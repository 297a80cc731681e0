import Backprop
import Testing

/// A counter shared with a traced closure.
final class CallCounter: @unchecked Sendable {
    var count = 0
}

/// What `compiled` promises besides equal values: one trace per list of shapes, a bounded cache, retracing on
/// new shapes, constants captured, host reads refused with a message.
@Suite struct CompiledBehaviourTests {
    @Test func tracesOncePerListOfShapesAndReplaysAfterwards() {
        let calls = CallCounter()
        let f = compiled { (x: Tensor<Double>) -> Tensor<Double> in
            calls.count += 1
            return (exp(x) * x).sum(alongAxes: 0)
        }
        let a = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor<Double>(shape: [2, 3], scalars: [-1, 0.5, 2, 0, 1, -3])
        #expect(f(a) == withoutRecording { (exp(a) * a).sum(alongAxes: 0) })
        #expect(f(b) == withoutRecording { (exp(b) * b).sum(alongAxes: 0) })
        #expect(calls.count == 1)
        // A new shape traces again; the old program stays.
        let c = Tensor<Double>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        #expect(f(c) == withoutRecording { (exp(c) * c).sum(alongAxes: 0) })
        #expect(calls.count == 2)
        _ = f(a)
        #expect(calls.count == 2)
    }

    @Test func keepsTheEightMostRecentlyUsedPrograms() {
        let calls = CallCounter()
        let f = compiled { (x: Tensor<Float>) -> Tensor<Float> in
            calls.count += 1
            return x * 2
        }
        for n in 1...9 { _ = f(Tensor<Float>.ones(shape: [n])) }
        #expect(calls.count == 9)
        _ = f(Tensor<Float>.ones(shape: [9]))  // kept
        _ = f(Tensor<Float>.ones(shape: [2]))  // kept
        #expect(calls.count == 9)
        _ = f(Tensor<Float>.ones(shape: [1]))  // the least recently used, dropped: traced again
        #expect(calls.count == 10)
    }

    @Test func capturedTensorsAreConstantsOfTheProgram() {
        let w = Tensor<Double>(shape: [3, 2], scalars: [1, -2, 0.5, 3, -1, 2])
        let f = compiled { (x: Tensor<Double>) -> Tensor<Double> in relu(matmul(x, w)) }
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 1])
        #expect(f(x) == relu(matmul(x, w)))
        let y = Tensor<Double>(shape: [2, 3], scalars: [0, 1, -1, 2, 2, 2])
        #expect(f(y) == relu(matmul(y, w)))
    }

    @Test func readingATracedValueOnTheHostStopsWithAMessage() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let f = compiled { (x: Tensor<Double>) -> Tensor<Double> in
                x.sum().scalar > 0 ? x : -x
            }
            _ = f(Tensor<Double>([1, 2]))
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("compiled: Tensor.scalar reads a traced value on the host"))
            #expect(message.contains("data-dependent control flow cannot be traced"))
        }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let f = compiled { (x: Tensor<Double>) -> Tensor<Double> in
                x == Tensor([1, 2]) ? x : x * 2
            }
            _ = f(Tensor<Double>([1, 2]))
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("compiled: Tensor == Tensor reads a traced value on the host"))
        }
    }

    @Test func aCompiledFunctionInsideAnotherIsInlined() {
        let inner = compiled { (x: Tensor<Double>) -> Tensor<Double> in sin(x) * x }
        let outer = compiled { (x: Tensor<Double>) -> Tensor<Double> in inner(x).sum() + inner(x * 2).sum() }
        for x in [Tensor<Double>([0.5, -1, 2]), Tensor<Double>([1, 1, 3])] {
            let expected = (sin(x) * x).sum() + (sin(x * 2) * (x * 2)).sum()
            #expect(Swift.abs(outer(x).scalar - expected.scalar) < 1e-12)
        }
    }
}

/// Random draws inside a compiled function, and a whole training run compiled.
@Suite struct CompiledTrainingTests {
    @Test func dropoutDrawsFreshNumbersOnEveryCall() {
        let stream = RandomStream(seed: 7)
        let f = compiled { (x: Tensor<Float>) -> Tensor<Float> in
            x * Tensor.dropoutMask(shape: x.shape, dropProbability: 0.5, scale: 2, using: stream)
        }
        let x = Tensor<Float>.ones(shape: [64])
        let first = f(x), second = f(x), third = f(x)
        #expect(first != second && second != third)
        // The same draws as the uncompiled function from the same stream.
        let replay = RandomStream(seed: 7)
        for expected in [first, second, third] {
            #expect(expected == x * Tensor.dropoutMask(shape: [64], dropProbability: 0.5, scale: 2, using: replay))
        }
    }

    @Test func theFirstCallGivesTheProgramsNumbersAndDrawsOnce() {
        // The first call's values come from the program (not from the trace, which rounds as eager code
        // does), so a call's numbers do not depend on whether its program existed; the trace's own draws are
        // put back, so the first call draws from the stream once, as every later call does.
        let stream = RandomStream(seed: 3)
        func body(_ x: Tensor<Double>) -> Tensor<Double> {
            exp(x * Tensor.dropoutMask(shape: x.shape, dropProbability: 0.3, scale: 1 / 0.7, using: stream)).sum() / 3
        }
        let x = uniform([300], -2, 2, seed: 9)
        let f = compiled(body), g = compiled(body)
        let before = stream.generator
        let first = f(x)
        let replay = RandomStream(seed: 3)
        _ = Tensor<Double>.dropoutMask(shape: [300], dropProbability: 0.3, scale: 1 / 0.7, using: replay)
        var (a, b) = (stream.generator, replay.generator)
        #expect(a.next() == b.next(), "the first call did not draw exactly once")
        _ = f(x)   // traced already: the program's replay
        stream.generator = before
        #expect(g(x).scalar == first.scalar, "a new compiled function's first call differs from a replay")
        stream.generator = before
        #expect(f(x).scalar == first.scalar)
    }

    @Test func insideAnomalyDetectionACompiledFunctionRunsUncompiled() {
        let f = compiled { (x: Tensor<Double>) -> Tensor<Double> in log(x - 1).sum() }
        _ = f(Tensor([3, 4]))
        do {
            _ = try withAnomalyDetection { gradient(at: Tensor<Double>([0.5, 4]), of: f) }
            Issue.record("no anomaly reported")
        } catch let anomaly as AnomalyDetected {
            #expect(anomaly.primitive == "log", "\(anomaly)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(f(Tensor([0.5, 4])).scalar.isNaN)
    }

    @Test func aCompiledTrainingRunEqualsTheEagerOne() {
        // A two-layer network trained by SGD on a fixed stream of batches, step by step both ways.
        func loss(_ p: [Tensor<Double>], _ x: Tensor<Double>, _ labels: Tensor<Double>) -> Tensor<Double> {
            let hidden = tanh(matmul(x, p[0]) + p[1])
            let logits = matmul(hidden, p[2]) + p[3]
            return (logits.logSoftmax(alongAxis: 1) * labels).sum() / -Double(x.shape[0])
        }
        func step(_ p: [Tensor<Double>], _ x: Tensor<Double>, _ labels: Tensor<Double>) -> [Tensor<Double>] {
            let g = gradient(at: p) { loss($0, x, labels) }
            return zip(p, g).map { $0 - 0.5 * $1 }
        }
        let compiledStep = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in step(Array(a[0..<4]), a[4], a[5]) }
        var eager = [uniform([5, 8], -0.5, 0.5, seed: 1), uniform([8], -0.1, 0.1, seed: 2),
                     uniform([8, 3], -0.5, 0.5, seed: 3), uniform([3], -0.1, 0.1, seed: 4)]
        var fast = eager
        for batch in 0..<20 {
            let x = uniform([16, 5], -1, 1, seed: UInt64(100 + batch))
            let classes = (0..<16).map { ($0 * 7 + batch) % 3 }
            let labels = Tensor<Double>(shape: [16, 3], scalars: classes.flatMap { c in (0..<3).map { $0 == c ? 1.0 : 0.0 } })
            eager = step(eager, x, labels)
            fast = compiledStep(fast + [x, labels])
        }
        #expect(largestError(fast, eager) <= 1e-12)
    }
}
