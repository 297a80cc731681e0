@testable import Backprop
import Testing

/// The replay's own shortcuts: values handed over without copies (outputs, what opaque steps read), the
/// positions of maxima found once per call, and fused kernels with reductions split across threads.
@Suite struct CompiledReplayTests {
    @Test func maxPoolingGradientsFollowEachCallsInput() {
        // Max pooling is an opaque gather whose pullback scatters to the positions of the maxima; the replay
        // finds them once per call, in that call's values.
        func lossAndGradient(_ x: Tensor<Double>, _ w: Tensor<Double>) -> [Tensor<Double>] {
            let (value, g) = valueWithGradient(at: x, w) { x, w in
                (maxPool2d(relu(x * w), kernel: (2, 2)) * maxPool2d(x, kernel: (2, 2))).sum()
            }
            return [value, g.0, g.1]
        }
        let f = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in lossAndGradient(a[0], a[1]) }
        let w = uniform([1, 2, 4, 4], -1, 1, seed: 7)
        var results: [[Tensor<Double>]] = []
        for seed in UInt64(1)...4 {
            let x = uniform([3, 2, 4, 4], -1, 1, seed: seed)
            let out = f([x, w])
            #expect(largestError(out, lossAndGradient(x, w)) <= 1e-12, "call with seed \(seed)")
            results.append(out)
        }
        // Each call's outputs are its own arrays: later calls do not write into them.
        for (seed, out) in zip(UInt64(1)...4, results) {
            let x = uniform([3, 2, 4, 4], -1, 1, seed: seed)
            #expect(largestError(out, lossAndGradient(x, w)) <= 1e-12, "kept outputs of the call with seed \(seed)")
        }
    }

    @Test func aRoutingFindsItsPositionsOncePerStorage() {
        let locations = CallCounter()
        let locate: (Tensor<Double>) -> [Int] = { x in
            locations.count += 1
            return x.scalars.indices.filter { x.scalars[$0] > 0 }
        }
        let a = Tensor<Double>([1, -2, 3, -4])
        let rule = FlatRouting(positions: locate(a), source: a, locate: locate).rule
        #expect(rule.routing(in: a).positions == [0, 2])
        #expect(rule.routing(in: a).positions == [0, 2])
        #expect(locations.count == 2)
        // Equal values in other storage, and other values: found again.
        let b = Tensor<Double>([1, -2, 3, -4]), c = Tensor<Double>([-1, 2, -3, 4])
        #expect(rule.routing(in: b).positions == [0, 2])
        #expect(rule.routing(in: c).positions == [1, 3])
        #expect(rule.routing(in: c).positions == [1, 3])
        #expect(locations.count == 4)
        // A forgotten memo finds them again, even in the same storage.
        rule.memo.forget()
        #expect(rule.routing(in: c).positions == [1, 3])
        #expect(locations.count == 5)
    }

    /// Functions whose programs have opaque steps (steps that run a primitive's own code), each of an
    /// argument of shape [2, 3, 4, 4].
    static let opaqueSteps: [(name: String, function: @Sendable (Tensor<Double>) -> Tensor<Double>)] = [
        ("max pooling's gather and scatter", { x in gradient(at: x) { maxPool2d($0, kernel: (2, 2)).squared().sum() } }),
        ("a convolution and its gradients", { x in
            let w = uniform([2, 3, 3, 3], -1, 1, seed: 9)
            return gradient(at: x) { conv2d($0, weight: w, padding: (1, 1)).squared().sum() }
        }),
        ("softmax cross-entropy", { x in
            gradient(at: x) { $0.reshaped(to: [6, 16]).softmaxCrossEntropy(labels: [0, 3, 5, 15, 2, 7]) }
        }),
        ("a scan and its gradient", { x in
            gradient(at: x) { x in
                let steps = x.reshaped(to: [2, 3, 16])
                let (carry, _) = scan(initial: [Tensor<Double>.zeros(shape: [16])], over: [steps]) { c, s, _ in
                    let next = tanh(c[0] + s[0].sum(alongAxes: [0]))
                    return ([next], [next])
                }
                return carry[0].squared().sum()
            }
        }),
        ("a custom primitive", { x in
            customPrimitive(at: [x], value: { $0[0] * 2 }, vjp: { _, _, g in [g * 2] }).sum(alongAxes: [0])
        }),
    ]

    @Test(arguments: 0..<opaqueSteps.count)
    func aProgramKeepsNoneOfACallsValues(case index: Int) {
        // The traced gather and scatter of max pooling once kept their first call's positions and source
        // (there the argument itself) for as long as the program lived, and their memo the last call's.
        let (name, function) = Self.opaqueSteps[index]
        let f = compiled(function)
        var x = uniform([2, 3, 4, 4], -1, 1, seed: 5)
        for _ in 0..<2 { #expect(largestError([f(x)], [function(x)]) <= 1e-12, "\(name)") }
        // Writing into x copies its storage when anything else still holds it.
        let before = x.storage.withUnsafeBufferPointer { $0.baseAddress }
        let after = x.storage.withUnsafeMutableBufferPointer { UnsafePointer($0.baseAddress) }
        #expect(before == after, "\(name): the compiled program still holds the argument's storage after its calls")
    }

    @Test func kernelsWithReductionsSplitAcrossThreadsEqualEager() {
        // Big enough to split: the bias gradient of a [128, 512] layer sums over rows (split by columns), a
        // convolution's over images and positions (split by blocks of its 9 channels, made the outer axis).
        func layer(_ x: Tensor<Double>, _ b: Tensor<Double>, _ g: Tensor<Double>) -> [Tensor<Double>] {
            let h = relu(x + b)
            return [h * g, (h * g).sum(alongAxes: [0])]
        }
        func channels(_ x: Tensor<Double>, _ g: Tensor<Double>) -> [Tensor<Double>] {
            let masked = Tensor.reluBackward(g, x)
            return [masked, masked.sum(alongAxes: [0, 2, 3])]
        }
        let f = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in layer(a[0], a[1], a[2]) }
        let x = uniform([128, 512], -1, 1, seed: 1), b = uniform([512], -1, 1, seed: 2), g = uniform([128, 512], -1, 1, seed: 3)
        _ = f([x, b, g])
        #expect(largestError(f([x, b, g]), withoutRecording { layer(x, b, g) }) <= 1e-12)
        let c = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in channels(a[0], a[1]) }
        let images = uniform([64, 9, 12, 12], -1, 1, seed: 4), gradient = uniform([64, 9, 12, 12], -1, 1, seed: 5)
        _ = c([images, gradient])
        #expect(largestError(c([images, gradient]), withoutRecording { channels(images, gradient) }) <= 1e-12)
    }

    @Test func shortRowsRunSeveralToATileAndEqualEager() {
        // Rows of 7 (36 to a tile of 256): 150 rows in blocks that cross the middle axis's boundaries, with
        // inputs broadcast along each axis, one read transposed (gathered), one-value registers, stores, sums
        // along and across rows, and a maximum.
        func f(_ x: Tensor<Double>, _ y: Tensor<Double>, _ column: Tensor<Double>, _ row: Tensor<Double>, _ t: Tensor<Double>) -> [Tensor<Double>] {
            let u = exp(x * column) + row - t.transposed(permutation: [0, 2, 1])
            let v = relu(u * y) + 2
            return [v, v.sum(alongAxes: [2]), u.sum(alongAxes: [0, 1]), (u * v).max(alongAxes: [1]), v.sum()]
        }
        let g = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in f(a[0], a[1], a[2], a[3], a[4]) }
        let x = uniform([3, 50, 7], -1, 1, seed: 1), y = uniform([3, 50, 7], -1, 1, seed: 2)
        let column = uniform([1, 50, 1], -1, 1, seed: 3), row = uniform([7], -1, 1, seed: 4)
        let t = uniform([3, 7, 50], -1, 1, seed: 5)
        _ = g([x, y, column, row, t])
        #expect(largestError(g([x, y, column, row, t]), withoutRecording { f(x, y, column, row, t) }) <= 1e-12)
        let compiledGradient = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in
            gradient(at: [a[0], a[2]]) { p in f(p[0], a[1], p[1], a[3], a[4])[1].sum() }
        }
        let eager = gradient(at: [x, column]) { p in f(p[0], y, p[1], row, t)[1].sum() }
        _ = compiledGradient([x, y, column, row, t])
        #expect(largestError(compiledGradient([x, y, column, row, t]), eager) <= 1e-12)
    }

    @Test func batchesOfSmallProductsSpreadOverTheCoresAndEqualEager() {
        // 16 heads of 64×48·48×64 (each too small for gemm to split, all together enough to spread by entry,
        // as the eager batched product does), forward and both gradients, each read transposed once.
        func heads(_ q: Tensor<Double>, _ k: Tensor<Double>) -> [Tensor<Double>] {
            let (value, g) = valueWithGradient(at: q, k) { q, k in
                (matmul(q, k, transposeB: true) * matmul(q, k, transposeB: true)).sum()
            }
            return [value, g.0, g.1, matmul(q, k, transposeA: true)]
        }
        // The reference: one 2-D product per head (no batch to spread), stacked.
        func headByHead(_ q: Tensor<Double>, _ k: Tensor<Double>) -> [Tensor<Double>] {
            let (value, g) = valueWithGradient(at: q, k) { q, k in
                (0..<16).map { i in
                    let scores = matmul(q[i], k[i], transposeB: true)
                    return (scores * scores).sum()
                }.reduce(Tensor(0), +)
            }
            return [value, g.0, g.1, Tensor(stacking: (0..<16).map { matmul(q[$0], k[$0], transposeA: true) })]
        }
        #expect(16 * 64 * 64 * 48 >= gemmParallelThreshold && 64 * 64 * 48 < gemmParallelThreshold)
        let f = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in heads(a[0], a[1]) }
        let q = uniform([16, 64, 48], -1, 1, seed: 1), k = uniform([16, 64, 48], -1, 1, seed: 2)
        _ = f([q, k])
        let reference = headByHead(q, k)
        #expect(largestError(f([q, k]), reference) <= 1e-10)
        #expect(largestError(heads(q, k), reference) <= 1e-10)
    }

    /// A call's arena and scratch start on a cache line, and the memory plan places buffers at multiples of 16
    /// values, so the kernels' full-width loads and stores from a buffer's start never straddle two lines (a
    /// 64-byte AVX-512 vector from a malloc'd, 16-byte-aligned base straddled two lines three times in four).
    @Test func arenasStartOnCacheLines() {
        for size in [1, 7, 1000, 100_003] {
            let doubles = Arena<Double>(size: size, scratch: size / 3 + 1, tableCount: 2)
            let floats = Arena<Float>(size: size, scratch: size / 3 + 1, tableCount: 2)
            for (name, pointer) in [("double base", UnsafeRawPointer(doubles.base)), ("double scratch", UnsafeRawPointer(doubles.scratch)),
                                    ("float base", UnsafeRawPointer(floats.base)), ("float scratch", UnsafeRawPointer(floats.scratch))] {
                #expect(Int(bitPattern: pointer) % 64 == 0, "\(name) of \(size) values at \(pointer)")
            }
        }
    }
}
