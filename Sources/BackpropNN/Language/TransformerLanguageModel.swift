/// A GPT-style character language model: token embeddings plus learned position embeddings, causal pre-norm
/// `TransformerBlock`s, a final `LayerNorm` and a linear head to the vocabulary (nanoGPT's shape, with
/// PyTorch's `TransformerEncoderLayer` blocks).
///
/// Parameter names: `token_embedding.weight`, `position_embedding.weight`, `blocks.0.self_attn.in_proj_weight`,
/// …, `norm.weight`, `norm.bias`, `head.weight`, `head.bias`; `scripts/peers_language.py` defines the same
/// module in PyTorch, whose `state_dict` loads here by name.
public struct TransformerLanguageModel<Scalar: TensorScalar>: LanguageModel {
    /// The model's shape.
    public let configuration: LanguageModelConfiguration
    /// The character vectors, `[V, width]`.
    public var tokenEmbedding: Embedding<Scalar>
    /// The position vectors, `[context, width]`.
    public var positionEmbedding: PositionalEmbedding<Scalar>
    /// The blocks, each masked causally.
    public var blocks: [TransformerBlock<Scalar>]
    /// The normalisation after the last block.
    public var norm: LayerNorm<Scalar>
    /// The map to the next character's logits, width → V.
    public var head: Linear<Scalar>

    /// A model initialised as GPT-2 and nanoGPT do: weights and embeddings from N(0, 0.02²), the projections
    /// that end each residual branch (`out_proj`, `linear2`) from N(0, 0.02² / (2 · layers)), biases 0,
    /// normalisations 1 and 0.
    ///
    /// - Precondition: `configuration.kind == .transformer` and `configuration.problem` is nil.
    public init(_ configuration: LanguageModelConfiguration, seed: UInt64) {
        precondition(configuration.kind == .transformer, "TransformerLanguageModel: the configuration is for \(configuration.kind)")
        if let problem = configuration.problem { preconditionFailure("TransformerLanguageModel: \(problem)") }
        self.configuration = configuration
        var generator = SeededGenerator(seed: seed)
        let (v, w) = (configuration.vocabularySize, configuration.width)
        func normal(_ shape: [Int], _ deviation: Double = 0.02) -> Tensor<Scalar> {
            .randomNormal(shape: shape, standardDeviation: Scalar(deviation), using: &generator)
        }
        tokenEmbedding = Embedding(weight: normal([v, w]))
        positionEmbedding = PositionalEmbedding(weight: normal([configuration.context, w]))
        let residual = 0.02 / Double(2 * configuration.layers).squareRoot()
        blocks = (0..<configuration.layers).map { _ in
            var block = TransformerBlock<Scalar>(
                width: w, headCount: configuration.heads, dropout: configuration.dropout, isCausal: true, using: &generator)
            block.selfAttention.inputProjectionWeight = normal([3 * w, w])
            block.selfAttention.inputProjectionBias = .zeros(shape: [3 * w])
            block.selfAttention.outputProjection = Linear(weight: normal([w, w], residual), bias: .zeros(shape: [w]))
            block.linear1 = Linear(weight: normal([4 * w, w]), bias: .zeros(shape: [4 * w]))
            block.linear2 = Linear(weight: normal([w, 4 * w], residual), bias: .zeros(shape: [w]))
            return block
        }
        norm = LayerNorm(size: w)
        head = Linear(weight: normal([v, w]), bias: .zeros(shape: [v]))
    }

    /// The PyTorch module's names for the embeddings (`token_embedding.weight`, `position_embedding.weight`).
    public static var stateDictNames: [PartialKeyPath<TransformerLanguageModel>: String] {
        [\.tokenEmbedding: "token_embedding", \.positionEmbedding: "position_embedding"]
    }

    /// The logits `[batch · T, V]` of the next character after each position (T ≤ context).
    public func logits(tokens: [Int], batch: Int, context: ForwardContext) -> Tensor<Scalar> {
        let (w, steps) = (configuration.width, batch > 0 ? tokens.count / batch : 0)
        precondition(
            batch > 0 && steps > 0 && steps * batch == tokens.count && steps <= configuration.context,
            "TransformerLanguageModel: expected \(batch) rows of 1 to \(configuration.context) tokens, got \(tokens.count) tokens")
        var x = positionEmbedding(tokenEmbedding(indices: tokens).reshaped(to: [batch, steps, w]), context: context)
        if context.isTraining, configuration.dropout > 0 { x = Dropout<Scalar>(probability: configuration.dropout)(x, context: context) }
        for block in blocks { x = block(x, context: context) }
        return head(norm(x, context: context).reshaped(to: [batch * steps, w]), context: context)
    }

    /// Continues `prompt`, reading at most the last `context` characters at each step.
    public func continuation(of prompt: [Int], length: Int, choose: (Tensor<Scalar>) -> Int) -> [Int] {
        precondition(!prompt.isEmpty, "TransformerLanguageModel: the prompt is empty")
        var tokens = prompt
        let evaluation = ForwardContext(mode: .evaluation)
        for _ in 0..<length {
            let window = Array(tokens.suffix(configuration.context))
            let logits = withoutRecording { self.logits(tokens: window, batch: 1, context: evaluation) }
            tokens.append(choose(logits.slicing((window.count - 1)..<window.count, alongAxis: 0).reshaped(to: [configuration.vocabularySize])))
        }
        return Array(tokens.dropFirst(prompt.count))
    }
}
