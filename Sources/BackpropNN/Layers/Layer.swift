/// A differentiable function with trainable parameters: a `Module` that maps a batch of inputs to a batch
/// of outputs.
///
/// A layer's parameters and buffers are found by themselves (see `Module`): a layer of one's own is its
/// stored properties and its `callAsFunction(_:context:)`, nothing else. Names follow PyTorch's
/// `state_dict` convention (`weight`, `bias`, and `0.weight` inside a `Sequential`), so checkpoints
/// interoperate.
///
/// Training differentiates copies of the model with replaced parameters (`replacingParameters(with:)`,
/// or the model-level `valueWithGradient(at:of:)`), then writes the updated values back; layers are
/// values, so this never affects other copies.
public protocol Layer<Scalar>: Module {
    /// The scalar type of the tensors the layer works on, inferred from `callAsFunction(_:context:)`.
    /// (Restated from `Module` so that a layer of one's own needs no `typealias`.)
    associatedtype Scalar
    /// Applies the layer to a batch of inputs.
    ///
    /// - Parameters:
    ///   - input: a batch, the first axis indexing examples.
    ///   - context: whether the call is for training or evaluation, and the random numbers that
    ///     stochastic layers such as `Dropout` draw in training.
    func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar>
}

/// A layer with no tensors at all (activations, pooling, reshaping, dropout): declaring it skips the
/// search for tensors, which would find none.
public protocol ParameterFreeLayer: Layer {}

extension ParameterFreeLayer {
    /// Nothing to visit.
    public mutating func visitTensors(with visitor: inout TensorVisitor<Scalar>) {}
}

extension Layer {
    /// Applies the layer in evaluation mode (dropout off).
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        callAsFunction(input, context: ForwardContext(mode: .evaluation))
    }
}

/// Whether a forward pass is for training or for evaluation, and the random numbers that stochastic
/// layers draw during training.
///
/// A reference type, so that one context threads one random sequence through every layer of a model.
public final class ForwardContext {
    /// Training or evaluation.
    public enum Mode: Sendable {
        /// Stochastic layers are active (dropout drops units).
        case training
        /// Deterministic inference (dropout passes inputs through).
        case evaluation
    }

    /// The mode of this pass.
    public let mode: Mode

    /// The stream stochastic layers draw from (a reference: a compiled training step draws fresh numbers
    /// from it on every call).
    public let randomStream: RandomStream

    /// The state of the generator stochastic layers draw from.
    public var generator: SeededGenerator {
        get { randomStream.generator }
        set { randomStream.generator = newValue }
    }

    /// Creates a context.
    ///
    /// - Parameters:
    ///   - mode: training or evaluation.
    ///   - seed: seeds the generator, so a training pass is reproducible.
    public init(mode: Mode, seed: UInt64 = 0) {
        self.mode = mode
        self.randomStream = RandomStream(seed: seed)
    }

    /// Whether this pass is for training.
    public var isTraining: Bool { mode == .training }
}
