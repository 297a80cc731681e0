/// Multi-head scaled dot-product attention, as PyTorch's `nn.MultiheadAttention(embedDimension, headCount,
/// batch_first=True)` (Vaswani et al., 2017).
///
/// The queries, keys and values are projected by the three row blocks of `in_proj_weight` (`[3E, E]`, in
/// that order) and `in_proj_bias`, split into `headCount` heads of `E / headCount` features, and each head
/// computes softmax(q kᵀ / √(E / headCount)) v; the heads are joined and projected by `out_proj`. Parameter
/// names are PyTorch's (`in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`), so a
/// `state_dict` loads by name.
///
/// Masks follow PyTorch: a causal mask lets position i attend to positions up to i; a key-padding mask
/// (`true` = padding) hides keys of each sequence; an additive mask `[L, S]` is added to the scores. A hidden
/// score is lowered by 10⁴ rather than set to −∞ (which anomaly detection would report): its weight is then
/// exactly 0 in float32 and float64 alike (e⁻¹⁰⁰⁰⁰ underflows) while a query's scores span less than 9000,
/// and a query whose every key is hidden attends as if none were, where PyTorch gives NaN.
public struct MultiHeadAttention<Scalar: TensorScalar>: Layer {
    /// The width E of queries, keys, values and output.
    public let embedDimension: Int
    /// The number of heads; each has `embedDimension / headCount` features.
    public let headCount: Int
    /// In training, the dropout probability on the attention weights.
    public var dropout: Double
    /// The query, key and value projections' weights stacked, `[3E, E]`.
    public var inputProjectionWeight: Tensor<Scalar>
    /// The query, key and value projections' biases stacked, `[3E]`, or nil without bias.
    public var inputProjectionBias: Tensor<Scalar>?
    /// The projection of the joined heads.
    public var outputProjection: Linear<Scalar>

    /// Creates a layer with PyTorch's initialisation: `in_proj_weight` Glorot-uniform, `out_proj.weight`
    /// uniform in ±1/√E, biases zero.
    ///
    /// - Parameters:
    ///   - embedDimension: the width E.
    ///   - headCount: the number of heads, dividing E.
    ///   - dropout: in training, the dropout probability on the attention weights.
    ///   - hasBias: whether the projections have biases.
    ///   - generator: the random source for the weights.
    public init(
        embedDimension: Int, headCount: Int, dropout: Double = 0, hasBias: Bool = true, using generator: inout SeededGenerator
    ) {
        precondition(
            embedDimension > 0 && headCount > 0 && embedDimension % headCount == 0,
            "MultiHeadAttention: headCount \(headCount) must be positive and divide embedDimension \(embedDimension)")
        precondition(dropout >= 0 && dropout < 1, "MultiHeadAttention: dropout must lie in [0, 1), got \(dropout)")
        self.embedDimension = embedDimension
        self.headCount = headCount
        self.dropout = dropout
        let glorot = Scalar((6 / Double(4 * embedDimension)).squareRoot())
        inputProjectionWeight = .randomUniform(
            shape: [3 * embedDimension, embedDimension], lowerBound: -glorot, upperBound: glorot, using: &generator)
        inputProjectionBias = hasBias ? .zeros(shape: [3 * embedDimension]) : nil
        let bound = Scalar(1 / Double(embedDimension).squareRoot())
        outputProjection = Linear(
            weight: .randomUniform(shape: [embedDimension, embedDimension], lowerBound: -bound, upperBound: bound, using: &generator),
            bias: hasBias ? .zeros(shape: [embedDimension]) : nil)
    }

    /// Features per head.
    public var headDimension: Int { embedDimension / headCount }

    /// PyTorch's names: `in_proj_weight`, `in_proj_bias`, `out_proj` (so `out_proj.weight`, `out_proj.bias`).
    public static var stateDictNames: [PartialKeyPath<MultiHeadAttention>: String] {
        [\.inputProjectionWeight: "in_proj_weight", \.inputProjectionBias: "in_proj_bias", \.outputProjection: "out_proj"]
    }

    /// Self-attention of a batch of sequences `[N, L, E]` with no mask: the output, `[N, L, E]`.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        attend(query: input, key: input, value: input, keyPaddingMask: nil, attentionMask: nil, isCausal: false, context: context).output
    }

    /// Attention of `query` (`[N, L, E]`) to `key` and `value` (`[N, S, E]`): the output, `[N, L, E]`.
    ///
    /// - Parameters:
    ///   - query: the sequences that attend, `[N, L, E]`.
    ///   - key: the sequences attended to, `[N, S, E]`.
    ///   - value: what each key position contributes, `[N, S, E]`.
    ///   - keyPaddingMask: for each of the N sequences, S flags, `true` where the key is padding to ignore.
    ///   - attentionMask: an additive mask `[L, S]` (0 to keep, a large negative number to hide).
    ///   - isCausal: whether query i sees only keys up to i (needs L = S).
    ///   - context: training (dropout on the attention weights) or evaluation.
    public func callAsFunction(
        query: Tensor<Scalar>, key: Tensor<Scalar>, value: Tensor<Scalar>, keyPaddingMask: [[Bool]]? = nil,
        attentionMask: Tensor<Scalar>? = nil, isCausal: Bool = false, context: ForwardContext = ForwardContext(mode: .evaluation)
    ) -> Tensor<Scalar> {
        attend(
            query: query, key: key, value: value, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask,
            isCausal: isCausal, context: context
        ).output
    }

    /// The attention weights `[N, L, S]`, averaged over the heads, as PyTorch returns them by default; the
    /// arguments are those of `callAsFunction(query:key:value:…)` (in evaluation mode).
    public func attentionWeights(
        query: Tensor<Scalar>, key: Tensor<Scalar>, keyPaddingMask: [[Bool]]? = nil, attentionMask: Tensor<Scalar>? = nil,
        isCausal: Bool = false
    ) -> Tensor<Scalar> {
        attend(
            query: query, key: key, value: key, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, isCausal: isCausal,
            context: ForwardContext(mode: .evaluation), needsWeights: true
        ).weights!.mean(alongAxes: 1)
    }

    /// The output and, when `needsWeights`, the per-head attention weights `[N, H, L, S]`.
    ///
    /// Without masks other than the causal one, without dropout and without the weights, the heads run as one
    /// fused primitive (`fusedAttention`) that reads the projections in place; otherwise as the composition of
    /// tensor operations (heads split by a transpose, scores, masks, softmax, dropout, product, heads joined).
    func attend(
        query: Tensor<Scalar>, key: Tensor<Scalar>, value: Tensor<Scalar>, keyPaddingMask: [[Bool]]?,
        attentionMask: Tensor<Scalar>?, isCausal: Bool, context: ForwardContext, needsWeights: Bool = false
    ) -> (output: Tensor<Scalar>, weights: Tensor<Scalar>?) {
        let e = embedDimension, h = headCount, d = headDimension
        precondition(
            query.rank == 3 && query.shape[2] == e,
            "MultiHeadAttention: expected query of shape [batch, length, \(e)], got \(query.shape)")
        let (n, l) = (query.shape[0], query.shape[1])
        precondition(
            key.rank == 3 && key.shape[0] == n && key.shape[2] == e && value.shape == key.shape,
            "MultiHeadAttention: key and value must have shape [\(n), length, \(e)], got \(key.shape) and \(value.shape)")
        let s = key.shape[1]
        if isCausal { precondition(l == s, "MultiHeadAttention: a causal mask needs as many queries as keys, got \(l) and \(s)") }
        if let attentionMask {
            precondition(attentionMask.shape == [l, s], "MultiHeadAttention: attentionMask must have shape [\(l), \(s)], got \(attentionMask.shape)")
        }
        func project(_ x: Tensor<Scalar>, _ block: Int, length: Int) -> Tensor<Scalar> {
            let rows = (block * e)..<((block + 1) * e)
            var p = matmul(x.reshaped(to: [n * length, e]), inputProjectionWeight.slicing(rows, alongAxis: 0), transposeB: true)
            if let bias = inputProjectionBias { p = p + bias.slicing(rows, alongAxis: 0) }
            return p.reshaped(to: [n, length, e])
        }
        let q = project(query, 0, length: l), k = project(key, 1, length: s), v = project(value, 2, length: s)
        let dropsWeights = context.isTraining && dropout > 0
        var joined: Tensor<Scalar>, weights: Tensor<Scalar>? = nil
        if !needsWeights && keyPaddingMask == nil && attentionMask == nil && !dropsWeights {
            joined = fusedAttention(query: q, key: k, value: v, heads: h, isCausal: isCausal)
        } else {
            func split(_ x: Tensor<Scalar>, _ length: Int) -> Tensor<Scalar> {
                x.reshaped(to: [n, length, h, d]).transposed(permutation: [0, 2, 1, 3])
            }
            var scores = matmul(split(q, l), split(k, s), transposeB: true) * Scalar(1 / Double(d).squareRoot())
            if let attentionMask { scores = scores + attentionMask }
            if let hidden = Self.hiddenScores(batch: n, queries: l, keys: s, keyPaddingMask: keyPaddingMask, isCausal: isCausal) {
                scores = scores + hidden
            }
            var attention = scores.softmax(alongAxis: -1)
            weights = attention
            if dropsWeights { attention = Dropout<Scalar>(probability: dropout)(attention, context: context) }
            joined = matmul(attention, split(v, s)).transposed(permutation: [0, 2, 1, 3]).reshaped(to: [n, l, e])
        }
        return (outputProjection(joined.reshaped(to: [n * l, e]), context: context).reshaped(to: [n, l, e]), weights)
    }

    /// A constant added to the scores: 0 where a query may see a key, −10⁴ where a mask hides it;
    /// `[1 or N, 1, L, S]`, or nil when nothing is hidden.
    static func hiddenScores(batch: Int, queries: Int, keys: Int, keyPaddingMask: [[Bool]]?, isCausal: Bool) -> Tensor<Scalar>? {
        guard isCausal || keyPaddingMask != nil else { return nil }
        if isCausal { precondition(queries == keys, "MultiHeadAttention: a causal mask needs as many queries as keys, got \(queries) and \(keys)") }
        if let keyPaddingMask {
            precondition(
                keyPaddingMask.count == batch && keyPaddingMask.allSatisfy { $0.count == keys },
                "MultiHeadAttention: keyPaddingMask must have \(batch) rows of \(keys) flags")
        }
        let hidden: Scalar = -10_000
        let rows = keyPaddingMask == nil ? 1 : batch
        var values = [Scalar](repeating: 0, count: rows * queries * keys)
        for b in 0..<rows {
            for i in 0..<queries {
                for j in 0..<keys where (isCausal && j > i) || (keyPaddingMask?[b][j] ?? false) {
                    values[(b * queries + i) * keys + j] = hidden
                }
            }
        }
        return Tensor(shape: [rows, 1, queries, keys], scalars: values)
    }
}
