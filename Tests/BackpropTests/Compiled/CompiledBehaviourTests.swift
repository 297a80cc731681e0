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
