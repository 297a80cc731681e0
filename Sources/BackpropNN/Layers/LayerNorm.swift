/// Layer normalisation over the last axis, as PyTorch's `nn.LayerNorm(size)`:
/// y = (x − mean) / √(variance + ε) · weight + bias.
///
/// The mean and the biased variance (dividing by `size`, not `size − 1`) are taken along the last axis
/// of each input separately, so the layer works on inputs of any rank whose last axis has `size`
/// elements. The weight and bias have shape `[size]` and the names `weight` and `bias`, so parameters
/// load unchanged from PyTorch checkpoints.
///
/// The layer is one recorded primitive (each row normalised in one pass forward and one back) whose
/// derivatives of higher order and forward mode follow the composition of tensor operations it replaces, so
/// every transform (gradients, Jacobians, Hessians, forward mode) applies to it at any order.
public struct LayerNorm<Scalar: TensorScalar>: Layer {
    /// The number of features along the last axis that are normalised together.
    public let size: Int
    /// The constant added to the variance before the square root, for numerical stability.
    public var epsilon: Double
    /// The elementwise gain, shape `[size]`, or nil for a layer without an affine transform.
    public var weight: Tensor<Scalar>?
    /// The elementwise offset, shape `[size]`, or nil for a layer without one.
    public var bias: Tensor<Scalar>?

    /// Creates a layer with a unit weight and a zero bias, as PyTorch initialises them.
    ///
    /// - Parameters:
    ///   - size: the length of the last axis of the inputs.
    ///   - epsilon: the constant added to the variance.
    ///   - elementwiseAffine: whether to scale by a learned weight and shift by a learned bias after
    ///     normalising; without them the layer has no parameters.
    /// - Precondition: `size > 0` and `epsilon >= 0`.
    public init(size: Int, epsilon: Double = 1e-5, elementwiseAffine: Bool = true) {
        precondition(size > 0, "LayerNorm: size must be positive, got \(size)")
        precondition(epsilon >= 0, "LayerNorm: epsilon must be non-negative, got \(epsilon)")
        self.size = size
        self.epsilon = epsilon
        self.weight = elementwiseAffine ? Tensor.ones(shape: [size]) : nil
        self.bias = elementwiseAffine ? Tensor.zeros(shape: [size]) : nil
    }

    /// Creates a layer from a given weight and bias.
    ///
    /// - Parameters:
    ///   - weight: the elementwise gain; its length is the layer's `size`.
    ///   - bias: the elementwise offset, or nil for a layer that only scales (PyTorch's `bias=False`).
    ///   - epsilon: the constant added to the variance.
    /// - Precondition: `weight` has shape `[size]` with `size > 0`, `bias`, if any, has the same shape,
    ///   and `epsilon >= 0`.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?, epsilon: Double = 1e-5) {
        precondition(
            weight.rank == 1 && weight.shape[0] > 0,
            "LayerNorm: weight must be a non-empty vector, got shape \(weight.shape)")
        if let bias {
            precondition(bias.shape == weight.shape, "LayerNorm: bias shape \(bias.shape) does not match weight \(weight.shape)")
        }
        precondition(epsilon >= 0, "LayerNorm: epsilon must be non-negative, got \(epsilon)")
        self.size = weight.shape[0]
        self.epsilon = epsilon
        self.weight = weight
        self.bias = bias
    }

    /// Normalises each slice along the last axis to mean 0 and variance 1, then applies the weight and
    /// bias if present. The output has the input's shape.
    ///
    /// - Precondition: the input's last axis has `size` elements.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        precondition(
            input.rank >= 1 && input.shape[input.rank - 1] == size,
            "LayerNorm: expected input whose last axis has size \(size), got shape \(input.shape)")
        return fusedLayerNorm(input, weight: weight, bias: bias, epsilon: epsilon)
    }
}
