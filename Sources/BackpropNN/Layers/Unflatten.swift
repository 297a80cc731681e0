/// Reshapes each example's features into a given shape: `[N, F]` → `[N] + shape` (PyTorch's
/// `nn.Unflatten(1, shape)`), so a convolutional network can take the flat feature rows of a data set.
public struct Unflatten<Scalar: TensorScalar>: ParameterFreeLayer {
    /// The shape of one example, such as `[1, 28, 28]` (channels, height, width).
    public var shape: [Int]

    /// Creates the layer.
    public init(shape: [Int]) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 }, "Unflatten: the shape must be positive dimensions, got \(shape)")
        self.shape = shape
    }

    /// The input `[N, F]` (F = the product of `shape`) as `[N] + shape`.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        let count = shape.reduce(1, *)
        precondition(input.rank == 2 && input.shape[1] == count,
                     "Unflatten: expected input of shape [n, \(count)] for examples of shape \(shape), got \(input.shape)")
        return input.reshaped(to: [input.shape[0]] + shape)
    }
}
