// Max and average pooling over NCHW images: each channel's windows unfolded into columns
// (`unfoldingPatches`), then reduced by `max` or `mean` along the taps. The derivative comes from the
// reduction (max routes the gradient to the largest tap, the first on a tie) and the unfolding's adjoint.

extension Tensor {
    /// The window taps of every channel as rows: `[kh·kw, N·C·Ho·Wo]`, padding read as `paddingValue`.
    fileprivate func channelPatches(_ geometry: WindowGeometry, paddingValue: Scalar, operation: String) -> (Tensor, [Int]) {
        precondition(rank == 4, "\(operation): the input must be NCHW (rank 4), got shape \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        guard let (oh, ow) = geometry.outputSize(height: h, width: w) else {
            preconditionFailure("\(operation): the window (\(geometry)) does not fit an input of shape \(shape)")
        }
        precondition(
            geometry.padding.height * 2 <= geometry.kernel.height && geometry.padding.width * 2 <= geometry.kernel.width,
            "\(operation): padding must be at most half the kernel size, got \(geometry)")
        let patches = reshaped(to: [n * c, 1, h, w]).unfoldingPatches(geometry, paddingValue: paddingValue)
        return (patches, [n, c, oh, ow])
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
    let (patches, shape) = input.channelPatches(geometry, paddingValue: -Scalar.infinity, operation: "maxPool2d")
    return patches.max(alongAxes: [0]).reshaped(to: shape)
}

/// Average pooling of an NCHW batch, as PyTorch's `avg_pool2d` (floor mode, padding counted in the
/// average): the mean of each window. `stride` defaults to the kernel size.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func avgPool2d<Scalar>(
    _ input: Tensor<Scalar>, kernel: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil,
    padding: (height: Int, width: Int) = (0, 0)
) -> Tensor<Scalar> {
    let geometry = WindowGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
    let (patches, shape) = input.channelPatches(geometry, paddingValue: 0, operation: "avgPool2d")
    return patches.mean(alongAxes: [0]).reshaped(to: shape)
}
