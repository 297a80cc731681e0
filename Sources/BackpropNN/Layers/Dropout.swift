/// Inverted dropout: in training, zeroes each element with probability `probability` and scales the
/// survivors by 1 / (1 − probability); in evaluation, passes the input through unchanged.
public struct Dropout<Scalar: TensorScalar>: ParameterFreeLayer {
    /// The probability of dropping an element, in [0, 1).
    public var probability: Double

    /// Creates the layer.
    ///
    /// - Precondition: `0 <= probability < 1`.
    public init(probability: Double) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability must lie in [0, 1), got \(probability)")
        self.probability = probability
    }

    /// Drops and rescales in training mode (drawing from `context.randomStream`); the identity otherwise.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        guard context.isTraining, probability > 0 else { return input }
        let keep = 1 / Scalar(1 - probability)
        return input * Tensor.dropoutMask(
            shape: input.shape, dropProbability: probability, scale: keep, using: context.randomStream)
    }
}
