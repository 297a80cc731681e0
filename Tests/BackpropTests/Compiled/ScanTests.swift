import Backprop
import Testing

/// The unrolled loop a scan stands for, for comparison.
private func unrolled(_ initial: [Tensor<Double>], _ xs: [Tensor<Double>], _ parameters: [Tensor<Double>],
                      _ body: ([Tensor<Double>], [Tensor<Double>], [Tensor<Double>]) -> (carry: [Tensor<Double>], y: [Tensor<Double>]))
    -> (carry: [Tensor<Double>], ys: [Tensor<Double>])
{
    var carry = initial
    var ys: [[Tensor<Double>]] = []
    for t in 0..<xs[0].shape[0] {
        let (next, y) = body(carry, xs.map { $0[t] }, parameters)
        carry = next
        ys.append(y)
    }
    return (carry, ys.isEmpty ? [] : ys[0].indices.map { j in Tensor(stacking: ys.map { $0[j] }) })
}

/// An Elman recurrence with a scalar loss accumulated in the carry.
private func elman(_ c: [Tensor<Double>], _ x: [Tensor<Double>], _ p: [Tensor<Double>]) -> (carry: [Tensor<Double>], y: [Tensor<Double>]) {
    let h = tanh(matmul(c[0].reshaped(to: [1, 4]), p[0]).reshaped(to: [4]) + x[0] * p[1])
    return ([h, c[1] + (h * h).sum()], [sigmoid(h)])
}

@Suite struct ScanTests {
    let initial = [uniform([4], -1, 1, seed: 1), Tensor<Double>(0)]
    let xs = [uniform([6, 4], -1, 1, seed: 2)]
    let parameters = [uniform([4, 4], -0.6, 0.6, seed: 3), uniform([4], 0.5, 1.5, seed: 4)]

    private func loss(_ a: [Tensor<Double>], scanning: Bool) -> Tensor<Double> {
        let (carry, ys) = scanning
            ? scan(initial: [a[0], initial[1]], over: [a[1]], parameters: [a[2], a[3]], elman)
            : unrolled([a[0], initial[1]], [a[1]], [a[2], a[3]], elman)
        return carry[1] + (ys[0] * ys[0]).sum() + carry[0].sum()
    }

    @Test func prefixSums() {
        let (total, prefix) = scan(initial: [Tensor<Double>(0)], over: [Tensor([1, 2, 3])]) { carry, x, _ in
            let next = carry[0] + x[0]
            return ([next], [next])
        }
        #expect(total[0].scalar == 6)
        #expect(prefix[0].scalars == [1, 3, 6])
    }

    @Test func outputsComputedInPlaceOrCopiedEqualTheUnrolledLoop() {
        // The loop computes an output that is a whole value of the step straight into the next carry or the
        // stacked outputs, and copies the others: one value returned twice (as carry and as y), part of a value
        // (slices, less than its memory, one from its start), a reshaped view, and a whole value.
        func body(_ c: [Tensor<Double>], _ x: [Tensor<Double>], _ p: [Tensor<Double>]) -> (carry: [Tensor<Double>], y: [Tensor<Double>]) {
            let h = tanh(c[0] * p[0] + x[0])
            let wide = Tensor(concatenating: [h, sigmoid(h)])
            return ([h, c[1] + h.sum()], [h, wide.slicing(2..<6, alongAxis: 0), wide.slicing(0..<4, alongAxis: 0), wide.reshaped(to: [2, 4]), exp(h) * p[0]])
        }
        func run(_ a: [Tensor<Double>], scanning: Bool) -> [Tensor<Double>] {
            let (carry, ys) = scanning
                ? scan(initial: [a[0], Tensor(0)], over: [a[1]], parameters: [a[2]], body)
                : unrolled([a[0], Tensor(0)], [a[1]], [a[2]], body)
            return carry + ys
        }
        let a = [uniform([4], -1, 1, seed: 11), uniform([7, 4], -1, 1, seed: 12), uniform([4], -1, 1, seed: 13)]
        #expect(largestError(run(a, scanning: true), run(a, scanning: false)) <= 1e-12)
        let total: ([Tensor<Double>], Bool) -> Tensor<Double> = { a, scanning in
            run(a, scanning: scanning).map { ($0 * $0).sum() }.reduce(Tensor(0), +)
        }
        #expect(largestError(gradient(at: a) { total($0, true) }, gradient(at: a) { total($0, false) }) <= 1e-12)
        let f = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in run(a, scanning: true) }
        _ = f(a)
        #expect(largestError(f(a), run(a, scanning: false)) <= 1e-12)
    }

    @Test func valuesAndDerivativesOfEveryOrderEqualTheUnrolledLoop() {
        let a = [initial[0], xs[0], parameters[0], parameters[1]]
        #expect(largestError([loss(a, scanning: true)], [loss(a, scanning: false)]) <= 1e-12)
        #expect(largestError(gradient(at: a) { loss($0, scanning: true) }, gradient(at: a) { loss($0, scanning: false) }) <= 1e-12)
        let v = directions(like: a, seed: 9)
        #expect(largestError([jvp(at: a, along: v) { loss($0, scanning: true) }], [jvp(at: a, along: v) { loss($0, scanning: false) }]) <= 1e-12)
        #expect(largestError(
            hessianVectorProduct(at: a, along: v) { loss($0, scanning: true) },
            hessianVectorProduct(at: a, along: v) { loss($0, scanning: false) }) <= 1e-11)
    }

    @Test func compiledTracesTheBodyOnceAndEqualsEager() {
        let calls = CallCounter()
        let step = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in
            let (value, g) = valueWithGradient(at: a) { a in
                let (carry, ys) = scan(initial: [a[0], Tensor<Double>(0)], over: [a[1]], parameters: [a[2], a[3]]) { c, x, p in
                    calls.count += 1
                    return elman(c, x, p)
                }
                return carry[1] + (ys[0] * ys[0]).sum() + carry[0].sum()
            }
            return [value] + g
        }
        for seed in [10, 20] as [UInt64] {
            let a = [uniform([4], -1, 1, seed: seed), uniform([50, 4], -1, 1, seed: seed + 1), parameters[0], parameters[1]]
            let (value, g) = valueWithGradient(at: a) { loss($0, scanning: false) }
            #expect(largestError(step(a), [value] + g) <= 1e-12)
        }
        // Traced a handful of times (the forward scan, the history and the reverse sweep), never once per step.
        #expect(calls.count < 10)
    }

    @Test func aBodyMayReadTheCompiledFunctionsOtherValues() {
        let f = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in
            let scale = exp(a[1])  // traced outside the loop, read inside it
            let (carry, _) = scan(initial: [a[0]], over: [a[2]]) { c, x, _ in ([c[0] * scale + x[0]], []) }
            return carry
        }
        for seed in [1, 2] as [UInt64] {
            let a = [uniform([3], -1, 1, seed: seed), uniform([3], -1, 0, seed: seed + 5), uniform([7, 3], -1, 1, seed: seed + 9)]
            var h = a[0]
            for t in 0..<7 { h = h * exp(a[1]) + a[2][t] }
            #expect(largestError(f(a), [h]) <= 1e-12)
        }
    }

    @Test func aCapturedTrackedTensorStopsWithAMessage() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let w = Tensor<Double>([1, 2])
            _ = gradient(at: w) { w in
                scan(initial: [Tensor<Double>.zeros(shape: [2])], over: [Tensor<Double>.ones(shape: [3, 2])]) { c, x, _ in
                    ([c[0] + x[0] * w], [])
                }.carry[0].sum()
            }
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("scan: the body uses a tracked tensor that is not among its inputs"))
        }
    }
}
