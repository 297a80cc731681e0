/// Max pooling over NCHW images, as PyTorch's `nn.MaxPool2d` (floor mode).
public struct MaxPool2D<Scalar: TensorScalar>: ParameterFreeLayer {
    /// Window height and width.
    public var kernelSize: (height: Int, width: Int)
    /// Step between windows (the kernel size by default).
    public var stride: (height: Int, width: Int)
    /// Padding on each side (never chosen as a maximum).
    public var padding: (height: Int, width: Int)

    /// Creates the layer; `stride` defaults to `kernelSize`.
    public init(kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil, padding: (height: Int, width: Int) = (0, 0)) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// The largest value of each window.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        maxPool2d(input, kernel: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling over NCHW images, as PyTorch's `nn.AvgPool2d` (floor mode, padding counted).
public struct AvgPool2D<Scalar: TensorScalar>: ParameterFreeLayer {
    /// Window height and width.
    public var kernelSize: (height: Int, width: Int)
    /// Step between windows (the kernel size by default).
    public var stride: (height: Int, width: Int)
    /// Zero padding on each side.
    public var padding: (height: Int, width: Int)

    /// Creates the layer; `stride` defaults to `kernelSize`.
    public init(kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil, padding: (height: Int, width: Int) = (0, 0)) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// The mean of each window.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        avgPool2d(input, kernel: kernelSize, stride: stride, padding: padding)
    }
}

/// The mean of each channel over its whole image: `[N, C, H, W]` → `[N, C]` (PyTorch's
/// `nn.AdaptiveAvgPool2d(1)` followed by a flatten).
public struct GlobalAveragePool<Scalar: TensorScalar>: ParameterFreeLayer {
    /// Creates the layer.
    public init() {}

    /// The mean over the two spatial axes.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        precondition(input.rank == 4, "GlobalAveragePool: expected an NCHW input of rank 4, got shape \(input.shape)")
        return input.mean(alongAxes: [2, 3])
    }
}

/// Flattens every axis after the first: `[N, …]` → `[N, product of the rest]` (PyTorch's `nn.Flatten`).
public struct Flatten<Scalar: TensorScalar>: ParameterFreeLayer {
    /// Creates the layer.
    public init() {}

    /// The input reshaped to `[N, -1]`.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        precondition(input.rank >= 1, "Flatten: expected a batch, got a scalar")
        return input.reshaped(to: [input.shape[0], input.shape.dropFirst().reduce(1, *)])
    }
}
