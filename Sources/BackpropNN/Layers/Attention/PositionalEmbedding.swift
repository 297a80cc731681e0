/// Learned positional embeddings: adds a trained vector for each position to a batch of sequences, as GPT
/// does (nanoGPT's `wpe`; PyTorch's `nn.Embedding(maximumLength, dimension)` applied to `arange(T)` and added).
///
/// The weight has shape `[maximumLength, dimension]` and the name `weight`.
public struct PositionalEmbedding<Scalar: TensorScalar>: Layer {
    /// Row t is the vector added at position t, shape `[maximumLength, dimension]`.
    public var weight: Tensor<Scalar>

    /// Creates a layer from a given table.
    ///
    /// - Precondition: `weight` has rank 2.
    public init(weight: Tensor<Scalar>) {
        precondition(weight.rank == 2, "PositionalEmbedding: weight must be a matrix, got shape \(weight.shape)")
        self.weight = weight
    }

    /// Creates a layer whose vectors are drawn from N(0, standardDeviation²) (PyTorch's `nn.Embedding` draws
    /// from N(0, 1); GPT-2 and nanoGPT use 0.02).
    ///
    /// - Precondition: `maximumLength > 0`, `dimension > 0`.
    public init(maximumLength: Int, dimension: Int, standardDeviation: Double = 1, using generator: inout SeededGenerator) {
        precondition(
            maximumLength > 0 && dimension > 0,
            "PositionalEmbedding: maximumLength and dimension must be positive, got \(maximumLength) and \(dimension)")
        self.init(weight: .randomNormal(shape: [maximumLength, dimension], standardDeviation: Scalar(standardDeviation), using: &generator))
    }

    /// The longest sequence the layer has positions for.
    public var maximumLength: Int { weight.shape[0] }
    /// The length of each vector.
    public var dimension: Int { weight.shape[1] }

    /// `input + weight[0..<T]` for a batch of sequences `[N, T, dimension]` with `T <= maximumLength`.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        precondition(
            input.rank == 3 && input.shape[2] == dimension && input.shape[1] <= maximumLength,
            "PositionalEmbedding: expected input of shape [batch, steps ≤ \(maximumLength), \(dimension)], got \(input.shape)")
        let steps = input.shape[1]
        return input + (steps == maximumLength ? weight : weight.slicing(0..<steps, alongAxis: 0))
    }
}
