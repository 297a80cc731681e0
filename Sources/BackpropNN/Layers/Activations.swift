/// An elementwise activation function, as a choice (for configuration, checkpoints and the CLI).
public enum Activation: String, Sendable, CaseIterable {
    /// max(0, x).
    case relu
    /// tanh(x).
    case tanh
    /// 1 / (1 + e⁻ˣ).
    case sigmoid

    /// Applies the function elementwise.
    public func apply<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        switch self {
        case .relu: return Backprop.relu(x)
        case .tanh: return Backprop.tanh(x)
        case .sigmoid: return Backprop.sigmoid(x)
        }
    }

    /// The weight initialisation that suits this activation: He for ReLU, Glorot otherwise.
    public var preferredInitialization: WeightInitialization { self == .relu ? .he : .glorot }
}

/// A parameterless layer applying max(0, x) elementwise.
public struct ReLU<Scalar: TensorScalar>: ParameterFreeLayer {
    /// Creates the layer.
    public init() {}
    /// max(0, x).
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> { relu(input) }
}

/// A parameterless layer applying tanh elementwise.
public struct Tanh<Scalar: TensorScalar>: ParameterFreeLayer {
    /// Creates the layer.
    public init() {}
    /// tanh(x).
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> { tanh(input) }
}

/// A parameterless layer applying the logistic sigmoid elementwise.
public struct Sigmoid<Scalar: TensorScalar>: ParameterFreeLayer {
    /// Creates the layer.
    public init() {}
    /// 1 / (1 + e⁻ˣ).
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> { sigmoid(input) }
}

/// Makes the layer for an activation choice.
public func makeActivationLayer<Scalar: TensorScalar>(_ activation: Activation, scalar: Scalar.Type = Scalar.self)
    -> any Layer<Scalar>
{
    switch activation {
    case .relu: return ReLU<Scalar>()
    case .tanh: return Tanh<Scalar>()
    case .sigmoid: return Sigmoid<Scalar>()
    }
}
