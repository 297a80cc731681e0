@testable import Backprop
import Testing

/// conv2d by the definition, one output at a time: the reference the unfolded product must equal.
private func directConvolution(
    _ x: Tensor<Double>, _ w: Tensor<Double>, _ b: Tensor<Double>?, stride: (Int, Int), padding: (Int, Int),
    dilation: (Int, Int), groups: Int
) -> Tensor<Double> {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
    let ow = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
    let xs = x.scalars, ws = w.scalars, bs = b?.scalars
    var out = [Double](repeating: 0, count: n * o * oh * ow)
    for image in 0..<n {
        for f in 0..<o {
            let group = f / (o / groups)
            for y in 0..<oh {
                for xx in 0..<ow {
                    var sum = bs?[f] ?? 0
                    for k in 0..<cg {
                        let channel = group * cg + k
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let r = y * stride.0 - padding.0 + i * dilation.0
                                let s = xx * stride.1 - padding.1 + j * dilation.1
                                guard r >= 0, r < h, s >= 0, s < wd else { continue }
                                sum += xs[((image * c + channel) * h + r) * wd + s] * ws[((f * cg + k) * kh + i) * kw + j]
                            }
                        }
                    }
                    out[((image * o + f) * oh + y) * ow + xx] = sum
                }
            }
        }
    }
    _ = c
    return Tensor(shape: [n, o, oh, ow], scalars: out)
}

/// Pooling by the definition.
private func directPool(
    _ x: Tensor<Double>, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), maximum: Bool
) -> Tensor<Double> {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let oh = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, ow = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
    let xs = x.scalars
    var out: [Double] = []
    for plane in 0..<(n * c) {
        for y in 0..<oh {
            for xx in 0..<ow {
                var best = -Double.infinity, sum = 0.0
                for i in 0..<kernel.0 {
                    for j in 0..<kernel.1 {
                        let r = y * stride.0 - padding.0 + i, s = xx * stride.1 - padding.1 + j
                        guard r >= 0, r < h, s >= 0, s < w else { continue }
                        best = max(best, xs[(plane * h + r) * w + s])
                        sum += xs[(plane * h + r) * w + s]
                    }
                }
                out.append(maximum ? best : sum / Double(kernel.0 * kernel.1))
            }
        }
    }
    return Tensor(shape: [n, c, oh, ow], scalars: out)
}

private func largestDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)")
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}

/// One conv2d configuration: input shape, weight shape and options.
struct ConvolutionCase: CustomStringConvertible, Sendable {
    var input: [Int]
    var weight: [Int]
    var bias: Bool
    var stride = (1, 1), padding = (0, 0), dilation = (1, 1)
    var groups = 1
    var description: String { "x\(input) w\(weight) stride \(stride) padding \(padding) dilation \(dilation) groups \(groups)" }
}

private let convolutionCases: [ConvolutionCase] = [
    .init(input: [2, 3, 7, 6], weight: [4, 3, 3, 3], bias: true),
    .init(input: [1, 1, 5, 5], weight: [2, 1, 3, 3], bias: false, padding: (1, 1)),
    .init(input: [2, 2, 9, 8], weight: [3, 2, 3, 2], bias: true, stride: (2, 3), padding: (1, 2)),
    .init(input: [1, 2, 9, 7], weight: [2, 2, 2, 3], bias: true, stride: (1, 2), padding: (2, 1), dilation: (3, 2)),
    .init(input: [3, 4, 5, 5], weight: [6, 2, 3, 1], bias: true, padding: (1, 0), groups: 2),
    .init(input: [1, 3, 4, 4], weight: [3, 1, 2, 2], bias: false, stride: (2, 2), groups: 3),
    .init(input: [2, 1, 3, 3], weight: [1, 1, 3, 3], bias: true),   // one output pixel
]

@Suite struct ConvolutionTests {
    @Test(arguments: convolutionCases)
    func convolutionEqualsTheDefinitionAndPassesAGradientCheck(_ c: ConvolutionCase) {
        let x = Tensor<Double>.randomUniform(shape: c.input, lowerBound: -1, upperBound: 1, seed: 1)
        let w = Tensor<Double>.randomUniform(shape: c.weight, lowerBound: -1, upperBound: 1, seed: 2)
        let b = c.bias ? Tensor<Double>.randomUniform(shape: [c.weight[0]], lowerBound: -1, upperBound: 1, seed: 3) : nil
        let y = conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
        let expected = directConvolution(x, w, b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
        #expect(largestDifference(y, expected) < 1e-12, "\(c)")
        // The gradient of a weighted sum with respect to input, weight and bias.
        let u = Tensor<Double>.randomUniform(shape: y.shape, lowerBound: -1, upperBound: 1, seed: 4)
        let inputs = [x, w] + (b.map { [$0] } ?? [])
        let check = checkGradients(at: inputs) { v in
            (conv2d(v[0], weight: v[1], bias: v.count > 2 ? v[2] : nil, stride: c.stride, padding: c.padding,
                    dilation: c.dilation, groups: c.groups) * u).sum()
        }
        #expect(check.passes(tolerance: 1e-8), "\(c): \(check.maxRelativeError)")
    }

    @Test func float32ConvolutionAgreesWithFloat64() {
        let x = Tensor<Double>.randomUniform(shape: [4, 3, 12, 12], lowerBound: -1, upperBound: 1, seed: 5)
        let w = Tensor<Double>.randomUniform(shape: [8, 3, 3, 3], lowerBound: -1, upperBound: 1, seed: 6)
        let y64 = conv2d(x, weight: w, padding: (1, 1))
        let y32 = conv2d(Tensor<Float>(shape: x.shape, scalars: x.scalars.map(Float.init)),
                         weight: Tensor<Float>(shape: w.shape, scalars: w.scalars.map(Float.init)), padding: (1, 1))
        #expect(largestDifference(y64, Tensor(shape: y32.shape, scalars: y32.scalars.map(Double.init))) < 1e-5)
    }

    @Test func unfoldAndFoldAreAdjoint() {
        // ⟨unfold(x), P⟩ = ⟨x, fold(P)⟩ for every geometry, the definition of the pair.
        let geometries = [
            WindowGeometry(kernel: (3, 3)),
            WindowGeometry(kernel: (2, 3), stride: (2, 1), padding: (1, 2)),
            WindowGeometry(kernel: (3, 2), stride: (3, 2), padding: (2, 1), dilation: (2, 3)),
        ]
        for (k, geometry) in geometries.enumerated() {
            let x = Tensor<Double>.randomUniform(shape: [2, 3, 8, 9], lowerBound: -1, upperBound: 1, seed: UInt64(10 + k))
            let patches = x.unfoldingPatches(geometry)
            let p = Tensor<Double>.randomUniform(shape: patches.shape, lowerBound: -1, upperBound: 1, seed: UInt64(20 + k))
            let left = (patches * p).sum().scalar
            let right = (x * p.foldingPatches(geometry, into: x.shape)).sum().scalar
            #expect(abs(left - right) < 1e-10 * max(1, abs(left)), "\(geometry)")
        }
    }

    @Test func poolingEqualsTheDefinition() {
        let x = Tensor<Double>.randomUniform(shape: [2, 3, 7, 8], lowerBound: -1, upperBound: 1, seed: 30)
        for (kernel, stride, padding) in [((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)), ((3, 2), (1, 2), (1, 0))] {
            #expect(largestDifference(
                maxPool2d(x, kernel: kernel, stride: stride, padding: padding),
                directPool(x, kernel: kernel, stride: stride, padding: padding, maximum: true)) == 0)
            #expect(largestDifference(
                avgPool2d(x, kernel: kernel, stride: stride, padding: padding),
                directPool(x, kernel: kernel, stride: stride, padding: padding, maximum: false)) < 1e-15)
        }
    }

    @Test func aPoolingGatherLongEnoughToSplitEqualsTheDefinition() {
        // 73 728 maxima: the gather of their values splits across the cores; the gradient scatters them back.
        let x = Tensor<Double>.randomUniform(shape: [2, 16, 96, 96], lowerBound: -1, upperBound: 1, seed: 55)
        #expect(2 * 16 * 48 * 48 >= elementwiseParallelThreshold)
        let pooled = maxPool2d(x, kernel: (2, 2))
        #expect(largestDifference(pooled, directPool(x, kernel: (2, 2), stride: (2, 2), padding: (0, 0), maximum: true)) == 0)
        let g = gradient(at: x) { maxPool2d($0, kernel: (2, 2)).sum() }
        #expect(g.scalars.reduce(0, +) == Double(pooled.scalarCount))
        #expect(g.scalars.allSatisfy { $0 == 0 || $0 == 1 })
    }

    @Test func largeInputsSplitAcrossThreadsGiveTheSameResults() {
        // Big enough that unfolding, folding, the pooling search and the NHWC → NCHW transposes run on
        // several threads (the sanitizer runs check them for races).
        let x = Tensor<Double>.randomUniform(shape: [4, 4, 40, 40], lowerBound: -1, upperBound: 1, seed: 50)
        let w = Tensor<Double>.randomUniform(shape: [8, 4, 3, 3], lowerBound: -1, upperBound: 1, seed: 51)
        let y = conv2d(x, weight: w, padding: (1, 1))
        #expect(largestDifference(y, directConvolution(x, w, nil, stride: (1, 1), padding: (1, 1), dilation: (1, 1), groups: 1)) < 1e-12)
        #expect(largestDifference(maxPool2d(y, kernel: (2, 2)), directPool(y, kernel: (2, 2), stride: (2, 2), padding: (0, 0), maximum: true)) == 0)
        let geometry = WindowGeometry(kernel: (3, 3), padding: (1, 1))
        let patches = x.unfoldingPatches(geometry)
        let p = Tensor<Double>.randomUniform(shape: patches.shape, lowerBound: -1, upperBound: 1, seed: 52)
        let left = (patches * p).sum().scalar, right = (x * p.foldingPatches(geometry, into: x.shape)).sum().scalar
        #expect(abs(left - right) < 1e-9 * max(1, abs(left)))
        // The input gradient (a fold of the product's gradient) against the definition's transpose.
        let u = Tensor<Double>.randomUniform(shape: y.shape, lowerBound: -1, upperBound: 1, seed: 53)
        let g = gradient(at: x) { (conv2d($0, weight: w, padding: (1, 1)) * u).sum() }
        let v = Tensor<Double>.randomUniform(shape: x.shape, lowerBound: -1, upperBound: 1, seed: 54)
        let h = 1e-6
        let directional = ((conv2d(x + h * v, weight: w, padding: (1, 1)) - conv2d(x - h * v, weight: w, padding: (1, 1))) * u).sum().scalar / (2 * h)
        #expect(abs((g * v).sum().scalar - directional) < 1e-6 * max(1, abs(directional)))
    }

    /// 2×2 pooling (a vector search on AVX-512 and AVX2 for floats, on AVX2 for doubles) picks the same taps as
    /// the definition on every kernel path: ties go to the first tap, a NaN beats a number, and rows of 1 to 33
    /// windows (partial vectors).
    @Test(arguments: testableKernelPaths)
    func maxPoolSearchMatchesTheDefinition(path: KernelPath) {
        checkMaxPoolSearch(Float.self, on: path)
        checkMaxPoolSearch(Double.self, on: path)
    }

    private func checkMaxPoolSearch<Scalar: TensorScalar>(_: Scalar.Type, on path: KernelPath) {
        for width in [2, 9, 14, 32, 40, 66] {
            let count = 2 * 3 * 6 * width
            var values = [Scalar](repeating: 0, count: count)
            for k in 0..<count { values[k] = Scalar((k * 7 + k / 5) % 4) - 1 }
            for k in stride(from: 5, to: count, by: 37) { values[k] = Scalar.nan }
            let x = Tensor<Scalar>(shape: [2, 3, 6, width], scalars: values)
            let (oh, ow) = (3, width / 2)
            var expected = [Scalar](repeating: 0, count: count)
            var maxima = [Scalar]()
            var positions = [Int]()
            for plane in 0..<6 {
                for y in 0..<oh {
                    for xo in 0..<ow {
                        var at: Int = plane * 6 * width + 2 * y * width + 2 * xo
                        for (i, j) in [(0, 1), (1, 0), (1, 1)] {
                            let index: Int = plane * 6 * width + (2 * y + i) * width + 2 * xo + j
                            let (value, best) = (values[index], values[at])
                            if value > best || (value.isNaN && !best.isNaN) { at = index }
                        }
                        expected[at] += 1
                        maxima.append(values[at])
                        positions.append(at)
                    }
                }
            }
            let (pooled, g): (Tensor<Scalar>, Tensor<Scalar>) = withKernelPath(path) {
                (maxPool2d(x, kernel: (2, 2)), gradient(at: x) { maxPool2d($0, kernel: (2, 2)).sum() })
            }
            // The search itself writes every position (its output is not zeroed first): over a marked array.
            var found = [Int](repeating: -7, count: positions.count)
            withKernelPath(path) {
                values.withUnsafeBufferPointer { source in
                    found.withUnsafeMutableBufferPointer { out in
                        Scalar._maxPoolPositions(source.baseAddress!, out.baseAddress!, of: 0..<6, height: 6, width: width,
                                                 outputHeight: oh, outputWidth: ow, geometry: WindowGeometry(kernel: (2, 2), stride: (2, 2)))
                    }
                }
            }
            #expect(found == positions, "positions, width \(width), \(Scalar.self) on \(path)")
            #expect(g.scalars == expected, "width \(width), \(Scalar.self) on \(path)")
            #expect(zip(pooled.scalars, maxima).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } && pooled.scalarCount == maxima.count,
                    "width \(width), \(Scalar.self) on \(path)")
        }
    }

    @Test func maxPoolRoutesTheGradientToTheLargestTap() {
        let x = Tensor<Double>(shape: [1, 1, 2, 4], scalars: [1, 5, 2, 2, 3, 4, 7, 0])
        let g = gradient(at: x) { maxPool2d($0, kernel: (2, 2)).sum() }
        // Windows {1, 5, 3, 4} → 5 and {2, 2, 7, 0} → 7.
        #expect(g.scalars == [0, 1, 0, 0, 0, 0, 1, 0])
        let tie = gradient(at: Tensor<Double>(shape: [1, 1, 2, 2], scalars: [2, 2, 2, 2])) { maxPool2d($0, kernel: (2, 2)).sum() }
        #expect(tie.scalars == [1, 0, 0, 0])   // the first of equal values, as PyTorch
    }
}
