/// A recurrent character language model: an embedding, an `LSTM`, `GRU` or tanh `RNN` of `layers` layers, and
/// a linear head to the vocabulary, all of one width.
///
/// Parameter names: `embedding.weight`, `rnn.weight_ih_l0`, …, `head.weight`, `head.bias`; the same module in
/// PyTorch (`scripts/peers_language.py`) loads here by name. Layers are initialised as PyTorch's.
public struct RecurrentLanguageModel<Scalar: TensorScalar>: LanguageModel {
    /// The model's shape.
    public let configuration: LanguageModelConfiguration
    /// The character vectors, `[V, width]`.
    public var embedding: Embedding<Scalar>
    /// The recurrent layers (`RNN`, `LSTM` or `GRU`).
    public var recurrent: any Layer<Scalar>
    /// The map to the next character's logits, width → V.
    public var head: Linear<Scalar>

    /// A model with PyTorch's initialisation of each layer.
    ///
    /// - Precondition: `configuration.kind` is recurrent and `configuration.problem` is nil.
    public init(_ configuration: LanguageModelConfiguration, seed: UInt64) {
        precondition(configuration.kind != .transformer, "RecurrentLanguageModel: the configuration is for a Transformer")
        if let problem = configuration.problem { preconditionFailure("RecurrentLanguageModel: \(problem)") }
        self.configuration = configuration
        var generator = SeededGenerator(seed: seed)
        let (v, w, layers, dropout) = (configuration.vocabularySize, configuration.width, configuration.layers, configuration.dropout)
        embedding = Embedding(count: v, dimension: w, generator: &generator)
        switch configuration.kind {
        case .lstm: recurrent = LSTM<Scalar>(inputSize: w, hiddenSize: w, layerCount: layers, dropout: dropout, using: &generator)
        case .gru: recurrent = GRU<Scalar>(inputSize: w, hiddenSize: w, layerCount: layers, dropout: dropout, using: &generator)
        default: recurrent = RNN<Scalar>(inputSize: w, hiddenSize: w, layerCount: layers, dropout: dropout, using: &generator)
        }
        let bound = Scalar(1 / Double(w).squareRoot())
        head = Linear(
            weight: .randomUniform(shape: [v, w], lowerBound: -bound, upperBound: bound, using: &generator),
            bias: .randomUniform(shape: [v], lowerBound: -bound, upperBound: bound, using: &generator))
    }

    /// The recurrent layers are named `rnn` (`rnn.weight_ih_l0`, …), as in the PyTorch module.
    public static var stateDictNames: [PartialKeyPath<RecurrentLanguageModel>: String] { [\.recurrent: "rnn"] }

    /// The logits `[batch · T, V]` of the next character after each position.
    public func logits(tokens: [Int], batch: Int, context: ForwardContext) -> Tensor<Scalar> {
        run(tokens: tokens, batch: batch, state: nil, context: context).logits
    }

    /// The logits and the final recurrent state (hidden, and cell for an LSTM) from a given state.
    func run(tokens: [Int], batch: Int, state: (Tensor<Scalar>, Tensor<Scalar>?)?, context: ForwardContext)
        -> (logits: Tensor<Scalar>, state: (Tensor<Scalar>, Tensor<Scalar>?))
    {
        let (w, steps) = (configuration.width, batch > 0 ? tokens.count / batch : 0)
        precondition(
            batch > 0 && steps > 0 && steps * batch == tokens.count,
            "RecurrentLanguageModel: expected \(batch) rows of at least 1 token, got \(tokens.count) tokens")
        for token in tokens {
            precondition(token >= 0 && token < configuration.vocabularySize, "RecurrentLanguageModel: token \(token) is not in 0..<\(configuration.vocabularySize)")
        }
        // The first layer reads the embedding's rows at the tokens itself: the table's projection is one small
        // product, where the embedded sequence's would be one per position (the same numbers either way).
        let stack: RecurrentStack<Scalar>
        switch recurrent {
        case let lstm as LSTM<Scalar>: stack = lstm.stack
        case let gru as GRU<Scalar>: stack = gru.stack
        case let rnn as RNN<Scalar>: stack = rnn.stack
        default: preconditionFailure("RecurrentLanguageModel: unexpected recurrent layer \(type(of: recurrent))")
        }
        let result = stack.run(
            embedding.weight, hidden: state?.0, cell: state?.1, embedded: RecurrentEmbeddedInput(tokens: tokens, batch: batch, steps: steps),
            context: context)
        return (head(result.output.reshaped(to: [batch * steps, w]), context: context), (result.hidden, result.cell))
    }

    /// Continues `prompt`, carrying the recurrent state from character to character.
    public func continuation(of prompt: [Int], length: Int, choose: (Tensor<Scalar>) -> Int) -> [Int] {
        precondition(!prompt.isEmpty, "RecurrentLanguageModel: the prompt is empty")
        let evaluation = ForwardContext(mode: .evaluation)
        var (logits, state) = withoutRecording { run(tokens: prompt, batch: 1, state: nil, context: evaluation) }
        var generated: [Int] = []
        for _ in 0..<length {
            let last = logits.slicing((logits.shape[0] - 1)..<logits.shape[0], alongAxis: 0).reshaped(to: [configuration.vocabularySize])
            let next = choose(last)
            generated.append(next)
            (logits, state) = withoutRecording { run(tokens: [next], batch: 1, state: state, context: evaluation) }
        }
        return generated
    }
}
