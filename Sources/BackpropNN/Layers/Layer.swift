/// A differentiable function with trainable parameters that have stable names.
///
/// Parameters are exposed as an ordered list of values (`parameters`) and their names
/// (`parameterNames`), in the same order. Names follow PyTorch's `state_dict` convention
/// (`weight`, `bias`, and `0.weight` inside a `Sequential`), so checkpoints interoperate.
///
/// Training replaces `parameters` with tracked copies inside a gradient computation, then writes the
/// updated values back; layers are values, so this never affects other copies.
public protocol Layer<Scalar> {
    /// The scalar type of the tensors the layer works on.
    associatedtype Scalar: TensorScalar

    /// The names of the parameters, in the order of `parameters`.
    var parameterNames: [String] { get }

    /// The parameter values, in the order of `parameterNames`.
    var parameters: [Tensor<Scalar>] { get set }

    /// The names of the layer's buffers: state that is saved with the parameters but not trained (BatchNorm's
    /// `running_mean`, `running_var`, `num_batches_tracked`), PyTorch's buffers. Empty by default.
    var bufferNames: [String] { get }

    /// The buffers' values, in the order of `bufferNames`. Empty by default.
    var buffers: [Tensor<Scalar>] { get set }

    /// Applies the layer to a batch of inputs.
    ///
    /// - Parameters:
    ///   - input: a batch, the first axis indexing examples.
    ///   - context: whether the call is for training or evaluation, and the random numbers that
    ///     stochastic layers such as `Dropout` draw in training.
    func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar>
}

/// A layer with no trainable parameters (activations, pooling, reshaping, dropout): `parameterNames` and
/// `parameters` are empty.
public protocol ParameterFreeLayer: Layer {}

extension ParameterFreeLayer {
    /// No parameters.
    public var parameterNames: [String] { [] }

    /// No parameters.
    public var parameters: [Tensor<Scalar>] {
        get { [] }
        set { precondition(newValue.isEmpty, "\(Self.self) has no parameters, got \(newValue.count)") }
    }
}

extension Layer {
    /// No buffers.
    public var bufferNames: [String] { [] }

    /// No buffers.
    public var buffers: [Tensor<Scalar>] {
        get { [] }
        set { precondition(newValue.isEmpty, "\(Self.self) has no buffers, got \(newValue.count)") }
    }

    /// The buffers as (name, value) pairs, in order.
    public var namedBuffers: [(name: String, value: Tensor<Scalar>)] {
        Array(zip(bufferNames, buffers)).map { (name: $0.0, value: $0.1) }
    }

    /// Applies the layer in evaluation mode (dropout off).
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        callAsFunction(input, context: ForwardContext(mode: .evaluation))
    }

    /// The parameters as (name, value) pairs, in order.
    public var namedParameters: [(name: String, value: Tensor<Scalar>)] {
        Array(zip(parameterNames, parameters)).map { (name: $0.0, value: $0.1) }
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.scalarCount } }
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

    /// The generator stochastic layers draw from.
    public var generator: SeededGenerator

    /// Creates a context.
    ///
    /// - Parameters:
    ///   - mode: training or evaluation.
    ///   - seed: seeds the generator, so a training pass is reproducible.
    public init(mode: Mode, seed: UInt64 = 0) {
        self.mode = mode
        self.generator = SeededGenerator(seed: seed)
    }

    /// Whether this pass is for training.
    public var isTraining: Bool { mode == .training }
}
