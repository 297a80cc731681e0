/// Chooses each next character of a generated text from the model's logits: the most likely one at
/// temperature 0 (greedy), otherwise a draw from softmax(logits / temperature), reproducibly from a seed.
public struct CharacterSampler: Sendable {
    /// 0 for greedy decoding; above 1 flattens the distribution, below 1 sharpens it.
    public let temperature: Double
    /// The random source of the draws.
    public var generator: SeededGenerator

    /// Creates a sampler.
    ///
    /// - Precondition: `temperature >= 0` and finite.
    public init(temperature: Double, seed: UInt64) {
        precondition(temperature >= 0 && temperature.isFinite, "CharacterSampler: temperature must be a non-negative number, got \(temperature)")
        self.temperature = temperature
        self.generator = SeededGenerator(seed: seed)
    }

    /// The index of the chosen character, from logits `[V]`.
    public mutating func choose<Scalar: TensorScalar>(_ logits: Tensor<Scalar>) -> Int {
        let values = logits.scalars.map(Double.init)
        precondition(!values.isEmpty, "CharacterSampler: no logits")
        // The largest logit (the first on a tie), ignoring NaN.
        var best = 0
        for (index, value) in values.enumerated() where value > values[best] || values[best].isNaN { best = index }
        guard temperature > 0 else { return best }
        let weights = values.map { ($0 - values[best]) / temperature }.map { $0.isNaN ? 0 : Double.exp($0) }
        let total = weights.reduce(0, +)
        var target = generator.nextUnit() * total
        for (index, weight) in weights.enumerated() {
            target -= weight
            if target < 0 { return index }
        }
        return best
    }
}
