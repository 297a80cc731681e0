// Two-dimensional convolution as a matrix product on unfolded patches (im2col): `unfoldingPatches` copies
// every receptive field into a column of a matrix, and its adjoint `foldingPatches` adds columns back into
// an image. The pair are linear primitives, each the other's derivative, so grouped convolution — a matrix
// product between the weights and the unfolded input, then shape operations — is differentiable to any order
// with no rule of its own. Ungrouped convolution runs image by image (ImageConvolution.swift).

import Dispatch

/// The geometry of a 2-D sliding window over NCHW images: kernel size, stride, zero padding and dilation.
public struct WindowGeometry: Hashable, Sendable, CustomStringConvertible {
    /// Kernel height and width.
    public var kernel: (height: Int, width: Int)
    /// Step between windows, vertically and horizontally.
    public var stride: (height: Int, width: Int)
    /// Padding added on each side, vertically and horizontally.
    public var padding: (height: Int, width: Int)
    /// Spacing between kernel taps, vertically and horizontally (1: adjacent).
    public var dilation: (height: Int, width: Int)

    /// A window geometry; every value must be positive except padding, which must not be negative.
    public init(
        kernel: (height: Int, width: Int), stride: (height: Int, width: Int) = (1, 1),
        padding: (height: Int, width: Int) = (0, 0), dilation: (height: Int, width: Int) = (1, 1)
    ) {
        precondition(kernel.height > 0 && kernel.width > 0, "WindowGeometry: kernel size must be positive, got \(kernel)")
        precondition(stride.height > 0 && stride.width > 0, "WindowGeometry: stride must be positive, got \(stride)")
        precondition(padding.height >= 0 && padding.width >= 0, "WindowGeometry: padding must not be negative, got \(padding)")
        precondition(dilation.height > 0 && dilation.width > 0, "WindowGeometry: dilation must be positive, got \(dilation)")
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// The output height and width for an input of `height` × `width` (PyTorch's floor rule), or nil when the
    /// dilated kernel does not fit in the padded input.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int)? {
        let h = (height + 2 * padding.height - dilation.height * (kernel.height - 1) - 1)
        let w = (width + 2 * padding.width - dilation.width * (kernel.width - 1) - 1)
        guard h >= 0, w >= 0 else { return nil }
        return (h / stride.height + 1, w / stride.width + 1)
    }

    /// The geometry as flags would write it.
    public var description: String {
        "kernel \(kernel.height)×\(kernel.width), stride \(stride.height)×\(stride.width), "
            + "padding \(padding.height)×\(padding.width), dilation \(dilation.height)×\(dilation.width)"
    }

    /// Whether two geometries have the same kernel, stride, padding and dilation.
    public static func == (a: WindowGeometry, b: WindowGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation
    }

    /// Hashes the eight sizes.
    public func hash(into hasher: inout Hasher) {
        for v in [kernel.height, kernel.width, stride.height, stride.width, padding.height, padding.width, dilation.height, dilation.width] {
            hasher.combine(v)
        }
    }
}

/// Raw addresses for a patch copy shared with worker threads; each worker writes only its own rows or channels.
private struct PatchPointers<Scalar>: @unchecked Sendable {
    let source: UnsafePointer<Scalar>
    let destination: UnsafeMutablePointer<Scalar>
}

extension Tensor {
    /// The receptive fields of an NCHW batch as the columns of a matrix (im2col): shape
    /// `[C·kh·kw, N·Ho·Wo]`, row `(c·kh + i)·kw + j` holding tap (i, j) of channel c, column `(n·Ho + y)·Wo + x`
    /// the window at output position (y, x) of image n. Taps that fall in the padding read `paddingValue`.
    ///
    /// Linear in the input (the padding value aside): its derivative is `foldingPatches`, its adjoint.
    public func unfoldingPatches(_ geometry: WindowGeometry, paddingValue: Scalar = 0) -> Tensor {
        precondition(rank == 4, "unfoldingPatches: needs an NCHW tensor of rank 4, got shape \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        guard let (oh, ow) = geometry.outputSize(height: h, width: w) else {
            preconditionFailure("unfoldingPatches: the window (\(geometry)) does not fit an input of shape \(shape)")
        }
        let rows = c * geometry.kernel.height * geometry.kernel.width, columns = n * oh * ow
        var values = [Scalar](repeating: paddingValue, count: rows * columns)
        withScalarBuffer { source in
            values.withUnsafeMutableBufferPointer { destination in
                let pointers = PatchPointers(source: source.baseAddress!, destination: destination.baseAddress!)
                let work = rows * columns
                let parts = work >= elementwiseParallelThreshold ? Swift.min(parallelThreadCount, rows) : 1
                let chunk = (rows + parts - 1) / parts
                let body: @Sendable (Int) -> Void = { part in
                    let lower = part * chunk, upper = Swift.min(rows, lower + chunk)
                    if lower < upper { copyPatches(pointers, rows: lower..<upper, n: n, c: c, h: h, w: w, oh: oh, ow: ow, geometry: geometry) }
                }
                if parts > 1 { concurrentPerformKeepingKernelPath(iterations: parts, body) } else { body(0) }
            }
        }
        let inputShape = shape
        var out = Tensor(shape: [rows, columns], buffer: values)
        if isTraced {
            out = out.traced(.opaque("unfoldPatches"), [self]) { $0[0].unfoldingPatches(geometry, paddingValue: paddingValue) }
        }
        return out.recorded(
            "unfoldPatches", inputs: [self],
            vjp: { g, _ in [g.foldingPatches(geometry, into: inputShape)] },
            jvp: { t, _ in t[0]?.unfoldingPatches(geometry) })
    }

    /// The adjoint of `unfoldingPatches`: adds each column of a `[C·kh·kw, N·Ho·Wo]` matrix back into the
    /// window it came from in a zero NCHW tensor of `shape` (col2im); overlapping windows add up and taps in
    /// the padding are dropped.
    public func foldingPatches(_ geometry: WindowGeometry, into shape: [Int]) -> Tensor {
        precondition(shape.count == 4, "foldingPatches: needs an NCHW output shape of rank 4, got \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        guard let (oh, ow) = geometry.outputSize(height: h, width: w) else {
            preconditionFailure("foldingPatches: the window (\(geometry)) does not fit an output of shape \(shape)")
        }
        let taps = geometry.kernel.height * geometry.kernel.width
        precondition(
            self.shape == [c * taps, n * oh * ow],
            "foldingPatches: patches of shape \(self.shape) do not match \(shape) with \(geometry): expected \([c * taps, n * oh * ow])")
        var values = [Scalar](repeating: 0, count: n * c * h * w)
        withScalarBuffer { source in
            values.withUnsafeMutableBufferPointer { destination in
                let pointers = PatchPointers(source: source.baseAddress!, destination: destination.baseAddress!)
                // Channel c's rows write only channel c of the image: split the channels across threads.
                let parts = self.shape[0] * self.shape[1] >= elementwiseParallelThreshold ? Swift.min(parallelThreadCount, c) : 1
                let chunk = (c + parts - 1) / parts
                let body: @Sendable (Int) -> Void = { part in
                    let lower = part * chunk, upper = Swift.min(c, lower + chunk)
                    if lower < upper { addPatches(pointers, channels: lower..<upper, n: n, c: c, h: h, w: w, oh: oh, ow: ow, geometry: geometry) }
                }
                if parts > 1 { concurrentPerformKeepingKernelPath(iterations: parts, body) } else { body(0) }
            }
        }
        let patchShape = self.shape
        var out = Tensor(shape: shape, buffer: values)
        if isTraced { out = out.traced(.opaque("foldPatches"), [self]) { $0[0].foldingPatches(geometry, into: shape) } }
        return out.recorded(
            "foldPatches", inputs: [self],
            vjp: { g, _ in
                let patches = g.unfoldingPatches(geometry)
                precondition(patches.shape == patchShape, "foldingPatches: internal shape mismatch")
                return [patches]
            },
            jvp: { t, _ in t[0]?.foldingPatches(geometry, into: shape) })
    }
}

/// The valid output positions along one axis for kernel tap `tap`: the range of outputs o with
/// 0 ≤ o·stride − padding + tap·dilation < size.
@inline(__always)
private func validOutputs(size: Int, outputs: Int, stride: Int, padding: Int, tap: Int, dilation: Int) -> Range<Int> {
    let offset = tap * dilation - padding
    // o·stride + offset ≥ 0  ⇔  o ≥ ceil(−offset / stride)
    let low = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    // o·stride + offset ≤ size − 1  ⇔  o ≤ floor((size − 1 − offset) / stride)
    let highInclusive = size - 1 - offset < 0 ? -1 : (size - 1 - offset) / stride
    let high = Swift.min(outputs, highInclusive + 1)
    return low < high ? low..<high : 0..<0
}

/// im2col for rows `rows` of the patch matrix (padding entries are left as initialised).
private func copyPatches<Scalar>(
    _ p: PatchPointers<Scalar>, rows: Range<Int>, n: Int, c: Int, h: Int, w: Int, oh: Int, ow: Int, geometry g: WindowGeometry
) {
    let (kh, kw) = g.kernel
    let columns = n * oh * ow
    for row in rows {
        let channel = row / (kh * kw), i = (row / kw) % kh, j = row % kw
        let ys = validOutputs(size: h, outputs: oh, stride: g.stride.height, padding: g.padding.height, tap: i, dilation: g.dilation.height)
        let xs = validOutputs(size: w, outputs: ow, stride: g.stride.width, padding: g.padding.width, tap: j, dilation: g.dilation.width)
        if xs.isEmpty || ys.isEmpty { continue }
        let rowBase = p.destination + row * columns
        // Input column of output x: x·stride − x0.
        let x0 = g.padding.width - j * g.dilation.width
        for image in 0..<n {
            let channelBase = p.source + (image * c + channel) * h * w
            for y in ys {
                let sourceRow = channelBase + (y * g.stride.height - g.padding.height + i * g.dilation.height) * w
                let destinationRow = rowBase + (image * oh + y) * ow
                if g.stride.width == 1 {
                    // A plain loop: the runs are short (an output row), where a memmove call costs more.
                    let target = destinationRow + xs.lowerBound, source = sourceRow + (xs.lowerBound - x0)
                    for k in 0..<xs.count { target[k] = source[k] }
                } else {
                    for x in xs { destinationRow[x] = sourceRow[x * g.stride.width - x0] }
                }
            }
        }
    }
}

/// im2col for rows `rows` of the patch matrix of the `n` images at `source`, into `destination` (padding
/// entries are left as initialised); for the image-by-image convolution.
func unfoldRows<Scalar>(
    source: UnsafePointer<Scalar>, destination: UnsafeMutablePointer<Scalar>, rows: Range<Int>, n: Int, c: Int,
    h: Int, w: Int, oh: Int, ow: Int, geometry: WindowGeometry
) {
    copyPatches(PatchPointers(source: source, destination: destination), rows: rows, n: n, c: c, h: h, w: w, oh: oh, ow: ow, geometry: geometry)
}

/// col2im for channels `channels`: adds the patch matrix at `source` into the images at `destination`; for
/// the image-by-image convolution.
func foldChannels<Scalar: TensorScalar>(
    source: UnsafePointer<Scalar>, destination: UnsafeMutablePointer<Scalar>, channels: Range<Int>, n: Int, c: Int,
    h: Int, w: Int, oh: Int, ow: Int, geometry: WindowGeometry
) {
    addPatches(PatchPointers(source: source, destination: destination), channels: channels, n: n, c: c, h: h, w: w, oh: oh, ow: ow, geometry: geometry)
}

/// col2im for the rows of channels `channels`: adds each patch entry into the image position it was read from.
private func addPatches<Scalar: TensorScalar>(
    _ p: PatchPointers<Scalar>, channels: Range<Int>, n: Int, c: Int, h: Int, w: Int, oh: Int, ow: Int, geometry g: WindowGeometry
) {
    let (kh, kw) = g.kernel
    let columns = n * oh * ow
    for channel in channels {
        for i in 0..<kh {
            let ys = validOutputs(size: h, outputs: oh, stride: g.stride.height, padding: g.padding.height, tap: i, dilation: g.dilation.height)
            for j in 0..<kw {
                let xs = validOutputs(size: w, outputs: ow, stride: g.stride.width, padding: g.padding.width, tap: j, dilation: g.dilation.width)
                if xs.isEmpty || ys.isEmpty { continue }
                let row = (channel * kh + i) * kw + j
                let rowBase = p.source + row * columns
                let x0 = g.padding.width - j * g.dilation.width
                let (sh, sw, ph, dh) = (g.stride.height, g.stride.width, g.padding.height, g.dilation.height)
                let first = xs.lowerBound, count = xs.count
                for image in 0..<n {
                    let channelBase = p.destination + (image * c + channel) * h * w
                    for y in ys {
                        let imageRow = channelBase + (y * sh - ph + i * dh) * w
                        let patchRow = rowBase + (image * oh + y) * ow
                        if sw == 1 {
                            // Unit stride: a contiguous run, which the compiler vectorises.
                            let target = imageRow + (first - x0), source = patchRow + first
                            for k in 0..<count { target[k] += source[k] }
                        } else {
                            for x in xs { imageRow[x * sw - x0] += patchRow[x] }
                        }
                    }
                }
            }
        }
    }
}

/// The 2-D cross-correlation of an NCHW batch with a bank of filters, as PyTorch's `conv2d`: `input`
/// `[N, C, H, W]`, `weight` `[O, C/groups, kh, kw]`, optional `bias` `[O]`; the result is `[N, O, Ho, Wo]`.
///
/// With one group, computed image by image by three closed primitives (the convolution, its input gradient
/// and its weight gradient: ImageConvolution.swift), each image's patches unfolded into a buffer that stays
/// in cache. With several groups, one matrix product per group between the weights (as `[O, C·kh·kw]`) and
/// the unfolded input (`unfoldingPatches`, `[C·kh·kw, N·Ho·Wo]`), so its derivatives are those of the matrix
/// product, the unfolding (whose adjoint folds gradients back into the image) and the shape operations.
/// Either way it is differentiable to any order.
///
/// - Precondition: the channel counts agree, `groups` divides both channel counts, and the window fits.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func conv2d<Scalar>(
    _ input: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil,
    stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0),
    dilation: (height: Int, width: Int) = (1, 1), groups: Int = 1
) -> Tensor<Scalar> {
    precondition(input.rank == 4, "conv2d: the input must be NCHW (rank 4), got shape \(input.shape)")
    precondition(weight.rank == 4, "conv2d: the weight must be [out, in/groups, kh, kw], got shape \(weight.shape)")
    precondition(groups > 0, "conv2d: groups must be positive, got \(groups)")
    let (n, c) = (input.shape[0], input.shape[1])
    let (o, perGroup, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    precondition(
        c % groups == 0 && o % groups == 0 && perGroup * groups == c,
        "conv2d: input of shape \(input.shape) and weight of shape \(weight.shape) do not match with groups = \(groups) (the weight's second axis must be channels / groups = \(c / groups))")
    if let bias { precondition(bias.shape == [o], "conv2d: bias of shape \(bias.shape) does not match \(o) output channels") }
    let geometry = WindowGeometry(kernel: (kh, kw), stride: stride, padding: padding, dilation: dilation)
    guard let (oh, ow) = geometry.outputSize(height: input.shape[2], width: input.shape[3]) else {
        preconditionFailure("conv2d: the window (\(geometry)) does not fit an input of shape \(input.shape)")
    }
    if groups == 1 {
        // Image by image, with each image's patches in cache (ImageConvolution.swift).
        return Tensor.imageConvolution(input, weight, bias: bias, geometry)
    }
    let outPerGroup = o / groups
    var outputs: [Tensor<Scalar>] = []
    for group in 0..<groups {
        let x = groups == 1 ? input : input.slicing((group * perGroup)..<((group + 1) * perGroup), alongAxis: 1)
        let w = groups == 1 ? weight : weight.slicing((group * outPerGroup)..<((group + 1) * outPerGroup), alongAxis: 0)
        let patches = x.unfoldingPatches(geometry)
        // [C·kh·kw, N·Ho·Wo]ᵀ · [O, C·kh·kw]ᵀ = [N·Ho·Wo, O] (NHWC): the long axis as the product's rows
        // measured 1.5× faster than [O, C·kh·kw] · [C·kh·kw, N·Ho·Wo] on cnn-step's second convolution.
        var product = matmul(patches, w.reshaped(to: [outPerGroup, perGroup * kh * kw]), transposeA: true, transposeB: true)
        if let bias {
            // A row bias on the NHWC product: the fast row-bias kernel, and a column sum in the pullback.
            product = product + (groups == 1 ? bias : bias.slicing((group * outPerGroup)..<((group + 1) * outPerGroup)))
        }
        // NHWC → NCHW: a batch of [Ho·Wo, O] matrices transposed.
        outputs.append(product.reshaped(to: [n, oh * ow, outPerGroup]).transposed(permutation: [0, 2, 1]))
    }
    return (groups == 1 ? outputs[0] : Tensor(concatenating: outputs, alongAxis: 1)).reshaped(to: [n, o, oh, ow])
}
