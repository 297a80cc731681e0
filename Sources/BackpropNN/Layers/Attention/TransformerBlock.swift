/// A pre-norm Transformer block: x + attention(LayerNorm(x)), then that + MLP(LayerNorm(that)) with a GELU
/// between the MLP's two linear layers, as GPT-2 and nanoGPT build it.
///
/// It is PyTorch's `nn.TransformerEncoderLayer(width, headCount, feedForwardWidth, dropout, activation="gelu",
/// batch_first=True, norm_first=True)`, with its parameter names (`self_attn.in_proj_weight`, …,
/// `linear1.weight`, `linear2.weight`, `norm1.weight`, `norm2.weight`, …), so its `state_dict` loads by name.
/// Dropout (in training) applies where PyTorch's does: on the attention weights, after the GELU and on both
/// residual branches.
public struct TransformerBlock<Scalar: TensorScalar>: Layer {
    /// The self-attention (`self_attn`).
    public var selfAttention: MultiHeadAttention<Scalar>
    /// The MLP's first layer, width → feed-forward width (`linear1`).
    public var linear1: Linear<Scalar>
    /// The MLP's second layer, feed-forward width → width (`linear2`).
    public var linear2: Linear<Scalar>
    /// The normalisation before the attention (`norm1`).
    public var norm1: LayerNorm<Scalar>
    /// The normalisation before the MLP (`norm2`).
    public var norm2: LayerNorm<Scalar>
    /// In training, the dropout probability (attention weights, MLP, residual branches).
    public var dropout: Double
    /// Whether `callAsFunction(_:context:)` masks attention causally (position i sees positions up to i), as a
    /// language model needs.
    public var isCausal: Bool
    /// The GELU's form between the MLP's layers.
    public var activation: GELUApproximation

    /// Creates a block with PyTorch's initialisation.
    ///
    /// - Parameters:
    ///   - width: features per position (PyTorch's `d_model`).
    ///   - headCount: attention heads, dividing `width`.
    ///   - feedForwardWidth: the MLP's hidden width; 4 × width by default (PyTorch's default is 2048).
    ///   - dropout: in training, the dropout probability.
    ///   - isCausal: whether `callAsFunction(_:context:)` masks attention causally.
    ///   - activation: the exact GELU (default) or its tanh approximation.
    ///   - layerNormEpsilon: the normalisations' ε.
    ///   - generator: the random source for the weights.
    public init(
        width: Int, headCount: Int, feedForwardWidth: Int? = nil, dropout: Double = 0, isCausal: Bool = false,
        activation: GELUApproximation = .none, layerNormEpsilon: Double = 1e-5, using generator: inout SeededGenerator
    ) {
        precondition(dropout >= 0 && dropout < 1, "TransformerBlock: dropout must lie in [0, 1), got \(dropout)")
        let hidden = feedForwardWidth ?? 4 * width
        precondition(hidden > 0, "TransformerBlock: feedForwardWidth must be positive, got \(hidden)")
        selfAttention = MultiHeadAttention(embedDimension: width, headCount: headCount, dropout: dropout, using: &generator)
        func linear(_ inputs: Int, _ outputs: Int) -> Linear<Scalar> {
            // PyTorch's nn.Linear: weight and bias uniform in ±1/√inputs.
            let bound = Scalar(1 / Double(inputs).squareRoot())
            let weight = Tensor<Scalar>.randomUniform(shape: [outputs, inputs], lowerBound: -bound, upperBound: bound, using: &generator)
            let bias = Tensor<Scalar>.randomUniform(shape: [outputs], lowerBound: -bound, upperBound: bound, using: &generator)
            return Linear(weight: weight, bias: bias)
        }
        linear1 = linear(width, hidden)
        linear2 = linear(hidden, width)
        norm1 = LayerNorm(size: width, epsilon: layerNormEpsilon)
        norm2 = LayerNorm(size: width, epsilon: layerNormEpsilon)
        self.dropout = dropout
        self.isCausal = isCausal
        self.activation = activation
    }

    /// Features per position.
    public var width: Int { selfAttention.embedDimension }

    /// PyTorch's name for the attention, `self_attn` (the others are named as in Swift: `linear1`, `norm1`, …).
    public static var stateDictNames: [PartialKeyPath<TransformerBlock>: String] { [\.selfAttention: "self_attn"] }

    /// The block applied to a batch of sequences `[N, L, width]`, masked causally when `isCausal`.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        callAsFunction(input, keyPaddingMask: nil, attentionMask: nil, isCausal: isCausal, context: context)
    }

    /// The block applied to a batch of sequences `[N, L, width]` with the given masks (see
    /// `MultiHeadAttention`).
    public func callAsFunction(
        _ input: Tensor<Scalar>, keyPaddingMask: [[Bool]]?, attentionMask: Tensor<Scalar>? = nil, isCausal: Bool,
        context: ForwardContext = ForwardContext(mode: .evaluation)
    ) -> Tensor<Scalar> {
        precondition(
            input.rank == 3 && input.shape[2] == width,
            "TransformerBlock: expected input of shape [batch, length, \(width)], got \(input.shape)")
        let (n, l) = (input.shape[0], input.shape[1])
        func dropped(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
            context.isTraining && dropout > 0 ? Dropout<Scalar>(probability: dropout)(x, context: context) : x
        }
        let normed = norm1(input, context: context)
        let attended = selfAttention.attend(
            query: normed, key: normed, value: normed, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask,
            isCausal: isCausal, context: context
        ).output
        let x = input + dropped(attended)
        let hidden = gelu(linear1(norm2(x, context: context).reshaped(to: [n * l, width]), context: context), approximation: activation)
        return x + dropped(linear2(dropped(hidden), context: context).reshaped(to: [n, l, width]))
    }
}
