/// A lookup table of learned vectors, as PyTorch's `nn.Embedding(count, dimension)`: each index in the
/// input selects one row of the weight.
///
/// The weight has shape `[count, dimension]` and the name `weight`, so it loads unchanged from PyTorch
/// checkpoints. The lookup is the engine's `gathering(atIndices:alongAxis:)`, so the gradient with
/// respect to the weight is scattered back to the selected rows and summed where an index repeats; the
/// indices themselves are discrete and receive no gradient.
public struct Embedding<Scalar: TensorScalar>: Layer {
    /// The table of vectors, shape `[count, dimension]`: row i is the vector for index i.
    public var weight: Tensor<Scalar>

    /// Creates a layer from a given table.
    ///
    /// - Precondition: `weight` has rank 2.
    public init(weight: Tensor<Scalar>) {
        precondition(weight.rank == 2, "Embedding: weight must be a matrix, got shape \(weight.shape)")
        self.weight = weight
    }

    /// Creates a layer whose vectors are drawn from the standard normal distribution, as PyTorch
    /// initialises them.
    ///
    /// - Parameters:
    ///   - count: the number of vectors (the size of the vocabulary).
    ///   - dimension: the length of each vector.
    ///   - generator: the random source for the vectors.
    /// - Precondition: `count >= 0` and `dimension >= 0`.
    public init(count: Int, dimension: Int, generator: inout SeededGenerator) {
        precondition(
            count >= 0 && dimension >= 0,
            "Embedding: count and dimension must be non-negative, got \(count) and \(dimension)")
        self.init(weight: .randomNormal(shape: [count, dimension], using: &generator))
    }

    /// The number of vectors, the first axis of `weight`.
    public var count: Int { weight.shape[0] }
    /// The length of each vector, the second axis of `weight`.
    public var dimension: Int { weight.shape[1] }

    /// The rows of `weight` selected by a tensor of indices of any shape, as a tensor of shape
    /// `input.shape + [dimension]`.
    ///
    /// - Parameters:
    ///   - input: integer-valued indices, stored as `Scalar`.
    ///   - context: unused (an embedding behaves alike in training and evaluation).
    /// - Precondition: every element of `input` is an integer in `0..<count`.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        let indices = input.scalars.map { value -> Int in
            precondition(
                value.rounded() == value && value >= 0 && value < Scalar(count),
                "Embedding: index \(value) is not an integer in 0..<\(count) (input shape \(input.shape))")
            return Int(value)
        }
        return lookUp(indices, shape: input.shape)
    }

    /// The rows of `weight` at `indices`, as a tensor of shape `[indices.count, dimension]`.
    ///
    /// - Precondition: every index lies in `0..<count`.
    public func callAsFunction(indices: [Int]) -> Tensor<Scalar> {
        for index in indices {
            precondition(index >= 0 && index < count, "Embedding: index \(index) is not in 0..<\(count)")
        }
        return lookUp(indices, shape: [indices.count])
    }

    /// The rows at checked `indices`, reshaped to `shape + [dimension]`.
    private func lookUp(_ indices: [Int], shape: [Int]) -> Tensor<Scalar> {
        weight.gathering(atIndices: indices, alongAxis: 0).reshaped(to: shape + [dimension])
    }
}
