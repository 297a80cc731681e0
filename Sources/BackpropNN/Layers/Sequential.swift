/// Layers applied one after another.
///
/// Tensor names are the layer's index, a dot, then the layer's own name (`0.weight`, `2.bias`), as
/// in PyTorch's `nn.Sequential`.
public struct Sequential<Scalar: TensorScalar>: Layer {
    /// The layers, first applied first.
    public var layers: [any Layer<Scalar>]

    /// Creates a stack of layers.
    public init(_ layers: [any Layer<Scalar>]) { self.layers = layers }

    /// Creates a stack of layers.
    public init(_ layers: any Layer<Scalar>...) { self.layers = layers }

    /// Visits each layer's tensors under its index (`0.weight`, `2.bias`), as PyTorch's `nn.Sequential`
    /// names them.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func visitTensors(with visitor: inout TensorVisitor<Scalar>) {
        visitor.visitElements(of: &layers)
    }

    /// Applies the layers in order.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        layers.reduce(input) { x, layer in layer(x, context: context) }
    }
}
