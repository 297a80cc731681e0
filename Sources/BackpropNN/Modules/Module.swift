/// A value whose tensors are found by themselves: a model, a layer, or any part of one.
///
/// Conforming needs no code beyond the conformance: every stored property that is a `Tensor<Scalar>`, an
/// optional, array or dictionary of tensors, or a value holding tensors (another module, a plain struct,
/// an `any Layer<Scalar>`), at any depth, is found by reflection (see `TensorVisitor`). Stored tensors are
/// parameters, those wrapped in `@Buffer` are buffers (saved, not trained), and each is named by its path
/// in PyTorch's `state_dict` convention: `encoder.0.weight`, `blocks.3.attention.query.bias`.
///
/// ```swift
/// struct Regressor: Layer {
///     var hidden = Linear<Float>(inputSize: 1, outputSize: 32, seed: 1)
///     var output = Linear<Float>(inputSize: 32, outputSize: 1, seed: 2)
///     func callAsFunction(_ x: Tensor<Float>, context: ForwardContext) -> Tensor<Float> { output(tanh(hidden(x))) }
/// }
/// Regressor().parameterNames   // ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]
/// ```
///
/// A module is a value: `replacingParameters(with:)` and the `parameters` setter make an updated copy, and
/// the model-level transforms (`valueWithGradient(at:of:)` on a module) return gradients as a value of the
/// module's own type. Models must be structs; properties of class type are not searched (a layer that keeps
/// tensors in a class, as `BatchNorm` does for its running statistics, implements `visitTensors(with:)`).
public protocol Module<Scalar> {
    /// The scalar type of the module's tensors. A `Layer` infers it from its `callAsFunction`; another
    /// module declares it (`typealias Scalar = Float`) or is generic over it.
    associatedtype Scalar: TensorScalar

    /// Calls `visitor` on each of the module's tensors with its role and name, in a fixed order, letting it
    /// read or replace them. The default finds them by reflection over the stored properties; implement it
    /// only for tensors reflection cannot reach (kept in a class) or to name them differently.
    mutating func visitTensors(with visitor: inout TensorVisitor<Scalar>)

    /// The names some stored properties take in tensor names where they differ from their Swift names, as
    /// when a model follows a PyTorch module's `state_dict` (`[\.selfAttention: "self_attn"]`). Keys are
    /// stored properties of the type itself. Empty by default.
    static var stateDictNames: [PartialKeyPath<Self>: String] { get }
}

extension Module {
    /// None: every stored property is named as it is in Swift.
    public static var stateDictNames: [PartialKeyPath<Self>: String] { [:] }

    /// `stateDictNames` by each property's offset and type.
    static var stateDictNamesByOffset: [StoredPropertyKey: String] {
        var names: [StoredPropertyKey: String] = [:]
        for (keyPath, name) in stateDictNames {
            guard let offset = MemoryLayout<Self>.offset(of: keyPath) else {
                preconditionFailure("\(Self.self).stateDictNames: \(keyPath) is not a stored property of \(Self.self)")
            }
            names[StoredPropertyKey(offset: offset, type: type(of: keyPath).valueType)] = name
        }
        return names
    }

    /// Visits the stored properties by reflection (see `TensorVisitor.visitStoredProperties(of:)`).
    public mutating func visitTensors(with visitor: inout TensorVisitor<Scalar>) {
        visitor.walk.layouts.noteDefaultVisit(of: Self.self)
        visitor.visitStoredProperties(of: &self)
    }

    /// The tensors of a role, in visiting order (read from a copy of the module).
    func tensors(_ role: TensorRole) -> [Tensor<Scalar>] {
        TensorVisitor<Scalar>.tensors(role) { visitor in
            var copy = self
            copy.visitTensors(with: &visitor)
        }
    }

    /// The names and tensors of a role, in visiting order.
    func namedTensors(_ role: TensorRole) -> [(name: String, value: Tensor<Scalar>)] {
        TensorVisitor<Scalar>.namedTensors(role) { visitor in
            var copy = self
            copy.visitTensors(with: &visitor)
        }
    }

    /// Replaces the tensors of a role, in visiting order, checking their number and shapes.
    mutating func setTensors(_ role: TensorRole, _ values: [Tensor<Scalar>], api: String) {
        TensorVisitor<Scalar>.replaceTensors(role, with: values, api: api, owner: Self.self) { visitor in
            visitTensors(with: &visitor)
        }
    }

    /// Moves the parameters out, in order, leaving placeholders (rank-0 zeros) until `restoreParameters`
    /// puts them back: while out, the caller holds the only reference to their storage and can update it
    /// in place.
    mutating func takeParameters() -> [Tensor<Scalar>] {
        TensorVisitor<Scalar>.exchangeParameters(of: &self, with: nil)
    }

    /// Puts back parameters moved out by `takeParameters()` (possibly updated, the same shapes).
    mutating func restoreParameters(_ parameters: [Tensor<Scalar>]) {
        _ = TensorVisitor<Scalar>.exchangeParameters(of: &self, with: parameters)
    }

    /// The parameters' names, in the order of `parameters`: each a path of stored-property names and
    /// indices joined by dots, PyTorch's `state_dict` keys (`0.weight`, `encoder.layers.1.bias`).
    public var parameterNames: [String] {
        namedTensors(.parameter).map(\.name)
    }

    /// The trainable tensors, in a fixed order (that of `parameterNames`). Setting it replaces them in
    /// the same order; the count and every shape must match.
    ///
    /// This pair, with `replacingParameters(with:)`, is how a module becomes a flat list of tensors and
    /// back, for the array-based transforms (`valueWithGradient(at: [Tensor], …)`), optimizers and
    /// gradient reductions.
    public var parameters: [Tensor<Scalar>] {
        get { tensors(.parameter) }
        set { setTensors(.parameter, newValue, api: "parameters") }
    }

    /// A copy of the module with its parameters replaced by `values`, in the order of `parameters`
    /// (buffers and everything else kept).
    ///
    /// - Precondition: one value per parameter, each of that parameter's shape.
    public func replacingParameters(with values: [Tensor<Scalar>]) -> Self {
        var copy = self
        copy.setTensors(.parameter, values, api: "replacingParameters(with:)")
        return copy
    }

    /// The parameters as (name, value) pairs, in order.
    public var namedParameters: [(name: String, value: Tensor<Scalar>)] {
        namedTensors(.parameter)
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.scalarCount } }

    /// The buffers' names: state saved with the parameters but not trained (BatchNorm's `running_mean`,
    /// tensors declared `@Buffer`), PyTorch's buffers.
    public var bufferNames: [String] {
        namedTensors(.buffer).map(\.name)
    }

    /// The buffers' values, in the order of `bufferNames`. Setting it replaces them in that order.
    public var buffers: [Tensor<Scalar>] {
        get { tensors(.buffer) }
        set { setTensors(.buffer, newValue, api: "buffers") }
    }

    /// The buffers as (name, value) pairs, in order.
    public var namedBuffers: [(name: String, value: Tensor<Scalar>)] {
        namedTensors(.buffer)
    }
}
