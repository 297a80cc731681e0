import CBackpropKernels

// Max and average pooling over NCHW images. Max pooling finds each window's largest input directly and
// gathers it (`gatheringFlat`, whose adjoint scatters the gradient back to that position: the first largest on
// a tie); average pooling unfolds each channel's windows into columns (`unfoldingPatches`) and takes their
// mean. Both are therefore differentiable to any order without rules of their own.

extension Tensor {
    /// The checked pooling shapes: input `(n, c, h, w)` and output `[n, c, oh, ow]` for `geometry`.
    fileprivate func poolingShapes(_ geometry: WindowGeometry, operation: String) -> (n: Int, c: Int, h: Int, w: Int, output: [Int]) {
        precondition(rank == 4, "\(operation): the input must be NCHW (rank 4), got shape \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        guard let (oh, ow) = geometry.outputSize(height: h, width: w) else {
            preconditionFailure("\(operation): the window (\(geometry)) does not fit an input of shape \(shape)")
        }
        precondition(
            geometry.padding.height * 2 <= geometry.kernel.height && geometry.padding.width * 2 <= geometry.kernel.width,
            "\(operation): padding must be at most half the kernel size, got \(geometry)")
        return (n, c, h, w, [n, c, oh, ow])
    }
}

/// Max pooling of an NCHW batch, as PyTorch's `max_pool2d` (floor mode): the largest value of each window,
/// padding never chosen. `stride` defaults to the kernel size.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func maxPool2d<Scalar>(
    _ input: Tensor<Scalar>, kernel: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil,
    padding: (height: Int, width: Int) = (0, 0), dilation: (height: Int, width: Int) = (1, 1)
) -> Tensor<Scalar> {
    let geometry = WindowGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: dilation)
    let output = input.poolingShapes(geometry, operation: "maxPool2d").output
    // Where each window's maximum is (the first of equal values, NaN winning), found directly; the result is
    // then a differentiable gather of those positions, whose adjoint scatters the gradient back.
    let locate: (Tensor<Scalar>) -> [Int] = { x in windowMaximumPositions(x, geometry) }
    let source = input.detached()
    return input.gatheringFlat(FlatRouting(positions: locate(source), source: source, locate: locate), shape: output)
}

/// The flat position of each pooling window's maximum in an NCHW batch (the first of equal values, NaN winning).
private func windowMaximumPositions<Scalar: TensorScalar>(_ input: Tensor<Scalar>, _ geometry: WindowGeometry) -> [Int] {
    let (n, c, h, w, output) = input.poolingShapes(geometry, operation: "maxPool2d")
    let (oh, ow) = (output[2], output[3])
    let planes = n * c
    // Every entry is written by the search (each window has a tap inside the image), so none is zeroed first.
    return [Int](unsafeUninitializedCapacity: planes * oh * ow) { out, initialized in
        input.withScalarBuffer { p in
            guard planes > 0, let positions = out.baseAddress, let source = p.baseAddress else { return }
            let pointers = PoolPointers(source: source, positions: positions)
            let work = planes * oh * ow * geometry.kernel.height * geometry.kernel.width
            let parts = work >= elementwiseParallelThreshold ? Swift.min(parallelThreadCount, planes) : 1
            let chunk = (planes + parts - 1) / parts
            let body: @Sendable (Int) -> Void = { part in
                let range = (part * chunk)..<Swift.min(planes, (part + 1) * chunk)
                guard !range.isEmpty else { return }
                Scalar._maxPoolPositions(pointers.source, pointers.positions, of: range, height: h, width: w,
                                         outputHeight: oh, outputWidth: ow, geometry: geometry)
            }
            if parts > 1 { concurrentPerformKeepingKernelPath(iterations: parts, body) } else { body(0) }
        }
        initialized = planes * oh * ow
    }
}

/// Raw addresses for the max-pooling search, shared with worker threads (each writes its own planes).
private struct PoolPointers<Scalar>: @unchecked Sendable {
    let source: UnsafePointer<Scalar>
    let positions: UnsafeMutablePointer<Int>
}

/// Average pooling of an NCHW batch, as PyTorch's `avg_pool2d` (floor mode, padding counted in the
/// average): the mean of each window. `stride` defaults to the kernel size.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func avgPool2d<Scalar>(
    _ input: Tensor<Scalar>, kernel: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil,
    padding: (height: Int, width: Int) = (0, 0)
) -> Tensor<Scalar> {
    let geometry = WindowGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
    let (n, c, h, w, output) = input.poolingShapes(geometry, operation: "avgPool2d")
    // Every channel's windows as columns of one [kh·kw, N·C·Ho·Wo] matrix, averaged over the taps.
    let patches = input.reshaped(to: [n * c, 1, h, w]).unfoldingPatches(geometry)
    return patches.mean(alongAxes: [0]).reshaped(to: output)
}
