// Convolution (groups = 1) computed image by image: each image's patches are unfolded into a small buffer
// that stays in cache and multiplied there, so the batch's patch matrix (7 MB for the CNN benchmark's
// second layer) is never written to memory, and the product comes out NCHW with no transpose. Three
// primitives close under differentiation: the convolution, its input gradient and its weight gradient are
// bilinear and each one's derivatives are the other two (or itself), so they support every order.
//
//   y  = conv(x, w)            y[n,o,p]   = Σ_{c,t} w[o,c,t] · x[n,c,p+t]
//   dx = inputGradient(g, w)   ⟨dx, u⟩    = ⟨g, conv(u, w)⟩
//   dw = weightGradient(x, g)  ⟨dw, v⟩    = ⟨g, conv(x, v)⟩

import CBackpropKernels
import Dispatch

/// The sizes of one convolution, read from its operands.
private struct ConvolutionSizes {
    let n: Int, c: Int, h: Int, w: Int
    let o: Int, kh: Int, kw: Int
    let oh: Int, ow: Int
    /// Rows of one image's patch matrix (C·kh·kw) and its columns (Ho·Wo).
    var patchRows: Int { c * kh * kw }
    var positions: Int { oh * ow }

    init(input: [Int], weight: [Int], geometry: WindowGeometry, operation: String) {
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (o, kh, kw) = (weight[0], weight[2], weight[3])
        precondition(weight[1] == c, "\(operation): input of shape \(input) and weight of shape \(weight) do not match")
        guard let (oh, ow) = geometry.outputSize(height: h, width: w) else {
            preconditionFailure("\(operation): the window (\(geometry)) does not fit an input of shape \(input)")
        }
        (self.oh, self.ow) = (oh, ow)
    }
}

/// Operand addresses shared with the worker threads, each of which handles its own images.
private struct ConvolutionPointers<Scalar>: @unchecked Sendable {
    let first: UnsafePointer<Scalar>
    let second: UnsafePointer<Scalar>
    let output: UnsafeMutablePointer<Scalar>
}

/// Runs `body(images, part)` over contiguous ranges of the `n` images, on several threads when the work
/// is large.
private func forEachImageRange(_ n: Int, work: Int, _ body: @escaping @Sendable (Range<Int>, Int) -> Void) -> Int {
    let parts = work >= elementwiseParallelThreshold ? Swift.min(parallelThreadCount, n) : 1
    let chunk = (n + parts - 1) / Swift.max(parts, 1)
    let run: @Sendable (Int) -> Void = { part in
        let range = (part * chunk)..<Swift.min(n, (part + 1) * chunk)
        if !range.isEmpty { body(range, part) }
    }
    if parts > 1 { concurrentPerformKeepingKernelPath(iterations: parts, run) } else if n > 0 { run(0) }
    return Swift.max(parts, 1)
}

extension Tensor {
    /// conv(x, w) + b for NCHW `x`, `w` of shape [O, C, kh, kw] and an optional bias `b` of shape [O] (one
    /// group): [N, O, Ho, Wo]. A bias is written into the output before the product adds to it.
    static func imageConvolution(_ x: Tensor, _ w: Tensor, bias: Tensor? = nil, _ geometry: WindowGeometry) -> Tensor {
        let s = ConvolutionSizes(input: x.shape, weight: w.shape, geometry: geometry, operation: "conv2d")
        if let bias {
            precondition(bias.shape == [s.o], "conv2d: bias of shape \(bias.shape) does not match \(s.o) output channels")
        }
        let outShape = [s.n, s.o, s.oh, s.ow]
        let count = s.n * s.o * s.positions
        let values = [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
            bias?.withScalarBuffer { b in
                for row in 0..<(s.n * s.o) {
                    (out.baseAddress! + row * s.positions).initialize(repeating: b[row % s.o], count: s.positions)
                }
            }
            convolve(x, w, s, geometry, into: out.baseAddress!, beta: bias == nil ? 0 : 1)
            initialized = count
        }
        // The rules capture only these values, never the (tracked) tensors: a rule holding a tensor of its
        // own tape would keep the tape alive forever (the tape holds the rule).
        let trackX = x.isTracked, trackW = w.isTracked, trackB = bias?.isTracked ?? false, hasBias = bias != nil
        let (inputShape, weightShape) = (x.shape, w.shape)
        var out = Tensor(shape: outShape, buffer: values)
        let inputs = [x, w] + (bias.map { [$0] } ?? [])
        if inputs.contains(where: \.isTraced) {
            out = out.traced(.opaque("conv2d"), inputs) { xs in
                imageConvolution(xs[0], xs[1], bias: xs.count > 2 ? xs[2] : nil, geometry)
            }
        }
        return out.recorded(
            "conv2d", inputs: [x, w] + (bias.map { [$0] } ?? []), saving: [x, w],
            vjp: { g, saved in
                [trackX ? imageConvolutionInputGradient(g, saved[1], geometry, inputShape: inputShape) : nil,
                 trackW ? imageConvolutionWeightGradient(saved[0], g, geometry, weightShape: weightShape) : nil]
                    + (hasBias ? [trackB ? g.sum(alongAxes: [0, 2, 3]) : nil] : [])
            },
            jvp: { t, saved in
                sumOfPresent(
                    t[0].map { imageConvolution($0, saved[1], geometry) },
                    t[1].map { imageConvolution(saved[0], $0, geometry) },
                    t.count > 2 ? t[2].map { $0.reshaped(to: [1, s.o, 1, 1]).broadcasted(to: outShape) } : nil)
            })
    }

    /// The input gradient of a convolution: for `g` of shape [N, O, Ho, Wo] and `w` [O, C, kh, kw], the
    /// [N, C, H, W] tensor (of `inputShape`) whose inner product with any u equals ⟨g, conv(u, w)⟩.
    static func imageConvolutionInputGradient(
        _ g: Tensor, _ w: Tensor, _ geometry: WindowGeometry, inputShape: [Int]
    ) -> Tensor {
        let s = ConvolutionSizes(input: inputShape, weight: w.shape, geometry: geometry, operation: "conv2d input gradient")
        precondition(g.shape == [s.n, s.o, s.oh, s.ow],
                     "conv2d input gradient: gradient of shape \(g.shape) does not match \([s.n, s.o, s.oh, s.ow])")
        var values = [Scalar](repeating: 0, count: s.n * s.c * s.h * s.w)
        g.withScalarBuffer { gp in
            w.withScalarBuffer { wp in
                values.withUnsafeMutableBufferPointer { out in
                    let p = ConvolutionPointers(first: gp.baseAddress!, second: wp.baseAddress!, output: out.baseAddress!)
                    _ = forEachImageRange(s.n, work: s.n * s.o * s.positions * s.patchRows) { images, _ in
                        var patches = [Scalar](repeating: 0, count: s.patchRows * s.positions)
                        patches.withUnsafeMutableBufferPointer { buffer in
                            for image in images {
                                // dP_n [C·kh·kw, HoWo] = Wᵀ · g_n [O, HoWo], folded back into image n.
                                gemm(transposeA: true, transposeB: false, m: s.patchRows, n: s.positions, k: s.o,
                                     alpha: 1, a: p.second, lda: s.patchRows,
                                     b: p.first + image * s.o * s.positions, ldb: s.positions,
                                     beta: 0, c: buffer.baseAddress!, ldc: s.positions)
                                addImagePatches(UnsafePointer(buffer.baseAddress!), into: p.output + image * s.c * s.h * s.w, s, geometry)
                            }
                        }
                    }
                }
            }
        }
        let trackG = g.isTracked, trackW = w.isTracked
        let weightShape = w.shape
        var out = Tensor(shape: inputShape, buffer: values)
        if g.isTraced || w.isTraced {
            out = out.traced(.opaque("conv2dInputGradient"), [g, w]) { xs in
                imageConvolutionInputGradient(xs[0], xs[1], geometry, inputShape: inputShape)
            }
        }
        return out.recorded(
            "conv2dInputGradient", inputs: [g, w], saving: [g, w],
            vjp: { u, saved in
                [trackG ? imageConvolution(u, saved[1], geometry) : nil,
                 trackW ? imageConvolutionWeightGradient(u, saved[0], geometry, weightShape: weightShape) : nil]
            },
            jvp: { t, saved in
                sumOfPresent(
                    t[0].map { imageConvolutionInputGradient($0, saved[1], geometry, inputShape: inputShape) },
                    t[1].map { imageConvolutionInputGradient(saved[0], $0, geometry, inputShape: inputShape) })
            })
    }

    /// The weight gradient of a convolution: for NCHW `x` and `g` of shape [N, O, Ho, Wo], the [O, C, kh, kw]
    /// tensor (of `weightShape`) whose inner product with any v equals ⟨g, conv(x, v)⟩.
    static func imageConvolutionWeightGradient(
        _ x: Tensor, _ g: Tensor, _ geometry: WindowGeometry, weightShape: [Int]
    ) -> Tensor {
        let s = ConvolutionSizes(input: x.shape, weight: weightShape, geometry: geometry, operation: "conv2d weight gradient")
        precondition(g.shape == [s.n, s.o, s.oh, s.ow],
                     "conv2d weight gradient: gradient of shape \(g.shape) does not match \([s.n, s.o, s.oh, s.ow])")
        let size = s.o * s.patchRows
        let threads = Swift.min(parallelThreadCount, Swift.max(s.n, 1))
        // One partial sum per thread, added up at the end.
        var partials = [Scalar](repeating: 0, count: threads * size)
        x.withScalarBuffer { xp in
            g.withScalarBuffer { gp in
                partials.withUnsafeMutableBufferPointer { out in
                    let p = ConvolutionPointers(first: xp.baseAddress!, second: gp.baseAddress!, output: out.baseAddress!)
                    let parts = forEachImageRange(s.n, work: s.n * s.o * s.positions * s.patchRows) { images, part in
                        var patches = [Scalar](repeating: 0, count: s.patchRows * s.positions)
                        patches.withUnsafeMutableBufferPointer { buffer in
                            for image in images {
                                copyImagePatches(p.first + image * s.c * s.h * s.w, into: buffer.baseAddress!, s, geometry)
                                // dW [O, C·kh·kw] += g_n [O, HoWo] · P_nᵀ
                                gemm(transposeA: false, transposeB: true, m: s.o, n: s.patchRows, k: s.positions,
                                     alpha: 1, a: p.second + image * s.o * s.positions, lda: s.positions,
                                     b: buffer.baseAddress!, ldb: s.positions,
                                     beta: 1, c: p.output + part * size, ldc: s.patchRows)
                            }
                        }
                    }
                    precondition(parts <= threads, "conv2d weight gradient: internal thread count")
                }
            }
        }
        var values = Array(partials[0..<size])
        for part in 1..<threads {
            for i in 0..<size { values[i] += partials[part * size + i] }
        }
        let trackX = x.isTracked, trackG = g.isTracked
        let inputShape = x.shape
        var out = Tensor(shape: weightShape, buffer: values)
        if x.isTraced || g.isTraced {
            out = out.traced(.opaque("conv2dWeightGradient"), [x, g]) { xs in
                imageConvolutionWeightGradient(xs[0], xs[1], geometry, weightShape: weightShape)
            }
        }
        return out.recorded(
            "conv2dWeightGradient", inputs: [x, g], saving: [x, g],
            vjp: { v, saved in
                [trackX ? imageConvolutionInputGradient(saved[1], v, geometry, inputShape: inputShape) : nil,
                 trackG ? imageConvolution(saved[0], v, geometry) : nil]
            },
            jvp: { t, saved in
                sumOfPresent(
                    t[0].map { imageConvolutionWeightGradient($0, saved[1], geometry, weightShape: weightShape) },
                    t[1].map { imageConvolutionWeightGradient(saved[0], $0, geometry, weightShape: weightShape) })
            })
    }
}

/// The sum of the terms that are present (a JVP's contributions from the inputs that have tangents), or nil
/// when none is.
private func sumOfPresent<Scalar: TensorScalar>(_ terms: Tensor<Scalar>?...) -> Tensor<Scalar>? {
    terms.compactMap { $0 }.reduce(nil) { sum, term in sum.map { $0 + term } ?? term }
}

/// Writes conv(x, w) + beta·out into `out` ([N, O, Ho, Wo]), image by image.
private func convolve<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, _ w: Tensor<Scalar>, _ s: ConvolutionSizes, _ geometry: WindowGeometry,
    into out: UnsafeMutablePointer<Scalar>, beta: Scalar
) {
    x.withScalarBuffer { xp in
        w.withScalarBuffer { wp in
            let p = ConvolutionPointers(first: xp.baseAddress!, second: wp.baseAddress!, output: out)
            _ = forEachImageRange(s.n, work: s.n * s.o * s.positions * s.patchRows) { images, _ in
                // Padding taps stay zero: the buffer is zeroed once, and every image overwrites the same
                // in-image entries.
                var patches = [Scalar](repeating: 0, count: s.patchRows * s.positions)
                patches.withUnsafeMutableBufferPointer { buffer in
                    for image in images {
                        copyImagePatches(p.first + image * s.c * s.h * s.w, into: buffer.baseAddress!, s, geometry)
                        // y_n [O, HoWo] = W [O, C·kh·kw] · P_n [C·kh·kw, HoWo] (+ beta · y_n)
                        gemm(transposeA: false, transposeB: false, m: s.o, n: s.positions, k: s.patchRows,
                             alpha: 1, a: p.second, lda: s.patchRows, b: buffer.baseAddress!, ldb: s.positions,
                             beta: beta, c: p.output + image * s.o * s.positions, ldc: s.positions)
                    }
                }
            }
        }
    }
}

/// Unfolds one image (C×H×W at `image`) into its [C·kh·kw, Ho·Wo] patch matrix at `patches`, leaving the
/// padding taps as they are (zero), through the C kernel.
private func copyImagePatches<Scalar: TensorScalar>(
    _ image: UnsafePointer<Scalar>, into patches: UnsafeMutablePointer<Scalar>, _ s: ConvolutionSizes, _ g: WindowGeometry
) {
    Scalar._unfoldImage(image, into: patches, channels: s.c, height: s.h, width: s.w, outputHeight: s.oh,
                        outputWidth: s.ow, geometry: g)
}

/// Adds one image's [C·kh·kw, Ho·Wo] patch gradient back into its C×H×W gradient at `image`.
private func addImagePatches<Scalar: TensorScalar>(
    _ patches: UnsafePointer<Scalar>, into image: UnsafeMutablePointer<Scalar>, _ s: ConvolutionSizes, _ g: WindowGeometry
) {
    Scalar._foldImage(patches, into: image, channels: s.c, height: s.h, width: s.w, outputHeight: s.oh,
                      outputWidth: s.ow, geometry: g)
}
