/// Layers applied one after another.
///
/// Parameter names are the layer's index, a dot, then the layer's own name (`0.weight`, `2.bias`), as
/// in PyTorch's `nn.Sequential`.
public struct Sequential<Scalar: TensorScalar>: Layer {
    /// The layers, first applied first.
    public var layers: [any Layer<Scalar>]

    /// Creates a stack of layers.
    public init(_ layers: [any Layer<Scalar>]) { self.layers = layers }

    /// Creates a stack of layers.
    public init(_ layers: any Layer<Scalar>...) { self.layers = layers }

    /// Each layer's parameter names prefixed by its index.
    public var parameterNames: [String] {
        layers.enumerated().flatMap { index, layer in layer.parameterNames.map { "\(index).\($0)" } }
    }

    /// Every layer's parameters, in layer order.
    public var parameters: [Tensor<Scalar>] {
        get { layers.flatMap { $0.parameters } }
        set {
            precondition(newValue.count == parameterNames.count, "Sequential: expected \(parameterNames.count) parameters, got \(newValue.count)")
            for (index, slice) in slices(of: newValue, counts: layers.map(\.parameterNames.count)) { layers[index].parameters = slice }
        }
    }

    /// Each layer's buffer names prefixed by its index (`1.running_mean`).
    public var bufferNames: [String] {
        layers.enumerated().flatMap { index, layer in layer.bufferNames.map { "\(index).\($0)" } }
    }

    /// Every layer's buffers, in layer order.
    public var buffers: [Tensor<Scalar>] {
        get { layers.flatMap { $0.buffers } }
        set {
            precondition(newValue.count == bufferNames.count, "Sequential: expected \(bufferNames.count) buffers, got \(newValue.count)")
            for (index, slice) in slices(of: newValue, counts: layers.map(\.bufferNames.count)) { layers[index].buffers = slice }
        }
    }

    /// The consecutive runs of `values` that belong to each layer with a non-zero count, as (layer, run).
    private func slices(of values: [Tensor<Scalar>], counts: [Int]) -> [(Int, [Tensor<Scalar>])] {
        var start = 0
        return counts.enumerated().compactMap { index, count in
            defer { start += count }
            return count > 0 ? (index, Array(values[start..<(start + count)])) : nil
        }
    }

    /// Applies the layers in order.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        layers.reduce(input) { x, layer in layer(x, context: context) }
    }
}
