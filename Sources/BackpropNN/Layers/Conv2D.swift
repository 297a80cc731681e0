/// A 2-D convolution over NCHW images, as PyTorch's `nn.Conv2d`: weight `[out, in/groups, kh, kw]`, optional
/// bias `[out]`, with stride, zero padding, dilation and groups. See `conv2d` for the computation and its
/// derivatives.
public struct Conv2D<Scalar: TensorScalar>: Layer {
    /// The filters, shape `[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]`.
    public var weight: Tensor<Scalar>
    /// The bias, shape `[outputChannels]`, or nil.
    public var bias: Tensor<Scalar>?
    /// Step between windows.
    public var stride: (height: Int, width: Int)
    /// Zero padding on each side.
    public var padding: (height: Int, width: Int)
    /// Spacing between kernel taps.
    public var dilation: (height: Int, width: Int)
    /// Channel groups (1: every output sees every input channel).
    public var groups: Int

    /// Creates a layer from given filters.
    ///
    /// - Precondition: `weight` has rank 4, `bias` (if any) has one entry per output channel, and `groups`
    ///   divides the output channels.
    public init(
        weight: Tensor<Scalar>, bias: Tensor<Scalar>?, stride: (height: Int, width: Int) = (1, 1),
        padding: (height: Int, width: Int) = (0, 0), dilation: (height: Int, width: Int) = (1, 1), groups: Int = 1
    ) {
        precondition(weight.rank == 4, "Conv2D: weight must be [out, in/groups, kh, kw], got shape \(weight.shape)")
        precondition(groups > 0 && weight.shape[0] % groups == 0, "Conv2D: groups \(groups) must divide \(weight.shape[0]) output channels")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Conv2D: bias shape \(bias.shape) does not match weight \(weight.shape)") }
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    /// Creates a layer initialised as PyTorch does: weight and bias uniform in ±1/√fanIn, fanIn =
    /// (inputChannels / groups)·kh·kw.
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: (height: Int, width: Int),
        stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0),
        dilation: (height: Int, width: Int) = (1, 1), groups: Int = 1, hasBias: Bool = true,
        using generator: inout SeededGenerator
    ) {
        precondition(inputChannels > 0 && outputChannels > 0, "Conv2D: channel counts must be positive, got \(inputChannels) → \(outputChannels)")
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "Conv2D: groups \(groups) must divide both \(inputChannels) input and \(outputChannels) output channels")
        let fanIn = inputChannels / groups * kernelSize.height * kernelSize.width
        let bound = Scalar(1 / Double(fanIn).squareRoot())
        let weight = Tensor<Scalar>.randomUniform(
            shape: [outputChannels, inputChannels / groups, kernelSize.height, kernelSize.width],
            lowerBound: -bound, upperBound: bound, using: &generator)
        let bias = hasBias ? Tensor<Scalar>.randomUniform(shape: [outputChannels], lowerBound: -bound, upperBound: bound, using: &generator) : nil
        self.init(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    /// Input channels.
    public var inputChannels: Int { weight.shape[1] * groups }
    /// Output channels.
    public var outputChannels: Int { weight.shape[0] }
    /// Kernel height and width.
    public var kernelSize: (height: Int, width: Int) { (weight.shape[2], weight.shape[3]) }

    /// The convolution of an NCHW batch.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        precondition(
            input.rank == 4 && input.shape[1] == inputChannels,
            "Conv2D: expected input of shape [n, \(inputChannels), h, w], got \(input.shape)")
        return conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}
