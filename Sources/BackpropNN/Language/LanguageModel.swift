/// The networks a character language model can be.
public enum LanguageModelKind: String, Sendable, CaseIterable {
    /// A GPT-style decoder: token and position embeddings, pre-norm causal `TransformerBlock`s, a final
    /// `LayerNorm` and a linear head.
    case transformer
    /// An embedding, an `LSTM` and a linear head.
    case lstm
    /// An embedding, a `GRU` and a linear head.
    case gru
    /// An embedding, a tanh `RNN` and a linear head.
    case rnn
}

/// The shape of a character language model: what `makeLanguageModel` builds and a checkpoint records.
public struct LanguageModelConfiguration: Sendable, Equatable {
    /// The network.
    public var kind: LanguageModelKind
    /// The number of characters it reads and predicts.
    public var vocabularySize: Int
    /// The characters it reads at once in training; the Transformer's longest input (its positions).
    public var context: Int
    /// Transformer blocks or recurrent layers.
    public var layers: Int
    /// The width of the embeddings and of every layer.
    public var width: Int
    /// The Transformer's attention heads (ignored by the recurrent networks).
    public var heads: Int
    /// In training, the dropout probability (Transformer: embeddings, attention, MLP and residual branches;
    /// recurrent: between layers).
    public var dropout: Double

    /// Creates a configuration.
    public init(
        kind: LanguageModelKind, vocabularySize: Int, context: Int = 64, layers: Int = 2, width: Int = 128, heads: Int = 4,
        dropout: Double = 0
    ) {
        self.kind = kind
        self.vocabularySize = vocabularySize
        self.context = context
        self.layers = layers
        self.width = width
        self.heads = heads
        self.dropout = dropout
    }

    /// What is wrong with the configuration, or nil: sizes must be positive, the heads must divide the
    /// width, dropout must lie in [0, 1), and the parameters must number at most `parameterLimit`.
    public var problem: String? {
        if vocabularySize < 2 { return "a language model needs at least 2 characters, the text has \(vocabularySize)" }
        if context < 1 || layers < 1 || width < 1 { return "context, layers and width must be positive (got \(context), \(layers), \(width))" }
        if kind == .transformer, heads < 1 || width % heads != 0 {
            return "the heads (\(heads)) must divide the width (\(width))"
        }
        if !(0..<1).contains(dropout) { return "dropout must lie in [0, 1), got \(dropout)" }
        if parameterCount > Self.parameterLimit {
            return "the model would have \(parameterCount) parameters, more than the \(Self.parameterLimit) allowed "
                + "(a vocabulary of \(vocabularySize) characters, width \(width), \(layers) layers)"
        }
        return nil
    }

    /// The most parameters a model may have (2²⁸, 1 GB of float32).
    public static let parameterLimit = 1 << 28

    /// The number of parameters the configuration describes (saturating, for a check before building).
    public var parameterCount: Int {
        func product(_ factors: Int...) -> Int {
            factors.reduce(1) { result, factor in
                let (value, overflow) = result.multipliedReportingOverflow(by: Swift.max(factor, 0))
                return overflow ? Int.max / 4 : value
            }
        }
        let v = vocabularySize, w = width, l = layers
        let embeddingAndHead = product(v, w) &+ product(v, w) &+ v
        switch kind {
        case .transformer:
            let block = product(3, w, w) &+ 3 * w &+ product(w, w) &+ w &+ product(8, w, w) &+ 5 * w &+ 4 * w
            return embeddingAndHead &+ product(context, w) &+ product(l, block) &+ 2 * w
        case .lstm, .gru, .rnn:
            let gates = kind == .lstm ? 4 : kind == .gru ? 3 : 1
            return embeddingAndHead &+ product(l, gates, 2 * w * w + 2 * w)
        }
    }

    /// The configuration as checkpoint metadata; `init(metadata:)` reads it back.
    public var metadata: [String: String] {
        [
            "lm.kind": kind.rawValue, "lm.vocabulary_size": "\(vocabularySize)", "lm.context": "\(context)",
            "lm.layers": "\(layers)", "lm.width": "\(width)", "lm.heads": "\(heads)", "lm.dropout": "\(dropout)",
        ]
    }

    /// Reads a configuration written by `metadata`; nil when an entry is missing, malformed or describes a
    /// model that cannot be built.
    public init?(metadata: [String: String]) {
        guard let kind = metadata["lm.kind"].flatMap(LanguageModelKind.init(rawValue:)),
            let vocabularySize = metadata["lm.vocabulary_size"].flatMap(Int.init),
            let context = metadata["lm.context"].flatMap(Int.init), let layers = metadata["lm.layers"].flatMap(Int.init),
            let width = metadata["lm.width"].flatMap(Int.init), let heads = metadata["lm.heads"].flatMap(Int.init),
            let dropout = metadata["lm.dropout"].flatMap(Double.init)
        else { return nil }
        self.init(kind: kind, vocabularySize: vocabularySize, context: context, layers: layers, width: width, heads: heads, dropout: dropout)
        if problem != nil { return nil }
    }

    /// One line: `transformer, 2 layers, width 128, 4 heads, context 64, 65 characters`.
    public var summary: String {
        "\(kind.rawValue), \(layers) layer\(layers == 1 ? "" : "s"), width \(width)"
            + (kind == .transformer ? ", \(heads) heads" : "") + ", context \(context), \(vocabularySize) characters"
            + (dropout > 0 ? ", dropout \(dropout)" : "")
    }
}

/// A network that reads characters and gives, at every position, the logits of the next character.
///
/// As a `Layer` it maps a batch of token indices `[N, T]` (stored as `Scalar`) to logits `[N, T, V]`.
public protocol LanguageModel<Scalar>: Layer {
    /// The model's shape.
    var configuration: LanguageModelConfiguration { get }

    /// The logits of the next character after each position: `tokens` are `batch` rows of T indices,
    /// row-major; the result is `[batch · T, vocabularySize]`.
    func logits(tokens: [Int], batch: Int, context: ForwardContext) -> Tensor<Scalar>

    /// Continues `prompt` (token indices, not empty) by `length` characters, each chosen by `choose` from the
    /// logits `[vocabularySize]` of the next character.
    func continuation(of prompt: [Int], length: Int, choose: (Tensor<Scalar>) -> Int) -> [Int]
}

extension LanguageModel {
    /// Logits `[N, T, V]` for token indices `[N, T]` stored as `Scalar`.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        precondition(input.rank == 2, "\(Self.self): expected token indices of shape [batch, length], got \(input.shape)")
        let size = configuration.vocabularySize
        let tokens = input.scalars.map { value -> Int in
            precondition(
                value.rounded() == value && value >= 0 && value < Scalar(size),
                "\(Self.self): token \(value) is not an integer in 0..<\(size)")
            return Int(value)
        }
        return logits(tokens: tokens, batch: input.shape[0], context: context)
            .reshaped(to: [input.shape[0], input.shape[1], size])
    }
}

/// Builds a freshly initialised model of `configuration`.
///
/// - Precondition: `configuration.problem` is nil.
public func makeLanguageModel<Scalar: TensorScalar>(
    _ configuration: LanguageModelConfiguration, seed: UInt64, as _: Scalar.Type = Scalar.self
) -> any LanguageModel<Scalar> {
    if let problem = configuration.problem { preconditionFailure("makeLanguageModel: \(problem)") }
    switch configuration.kind {
    case .transformer: return TransformerLanguageModel<Scalar>(configuration, seed: seed)
    case .lstm, .gru, .rnn: return RecurrentLanguageModel<Scalar>(configuration, seed: seed)
    }
}
