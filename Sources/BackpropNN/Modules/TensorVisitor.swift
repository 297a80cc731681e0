/// What a tensor found in a module is for.
public enum TensorRole: Sendable, Equatable {
    /// Trained: differentiated, updated by optimizers, saved in checkpoints.
    case parameter
    /// State saved with the parameters but not trained (BatchNorm's running statistics, `@Buffer`).
    case buffer

    /// "parameters" or "buffers", for messages.
    var plural: String { self == .parameter ? "parameters" : "buffers" }
}

/// Walks the tensors of a module, calling one function with each tensor (in place, so it can be read or
/// replaced), its role and its `state_dict` name.
///
/// The order and the names come from the module's structure: stored properties in declaration order,
/// array elements by index (`layers.0`), dictionary values by key in sorted order, optionals by their
/// property's name, properties wrapped in `@Buffer` by the name they were declared with. Values of any
/// other type are searched by reflection; numbers, strings, enumerations and classes hold no tensors and
/// are skipped. Where a type can hold tensors is worked out once per type, so a model's `[String]`
/// vocabulary costs nothing per step.
///
/// Modules call it from `visitTensors(with:)`: the default visits the stored properties; a module that
/// keeps tensors elsewhere visits them itself:
///
/// ```swift
/// mutating func visitTensors(with visitor: inout TensorVisitor<Scalar>) {
///     visitor.visit(&weight, named: "weight")
///     visitor.visit(&statistics.mean, named: "running_mean", role: .buffer)
/// }
/// ```
public struct TensorVisitor<Scalar: TensorScalar> {
    /// The walk, which does not depend on `Scalar` (see `TensorWalk`).
    var walk: TensorWalk

    /// Creates a visitor that calls `body` with each tensor (which it may replace by assigning to it), the
    /// tensor's role, and a function returning the tensor's full dotted name (built only when called).
    public init(_ body: @escaping (_ tensor: inout Tensor<Scalar>, _ role: TensorRole, _ name: () -> String) -> Void) {
        self.init(readOnly: false, body)
    }

    /// Creates a visitor; `readOnly` promises that `body` never assigns to the tensor.
    init(readOnly: Bool, _ body: @escaping (inout Tensor<Scalar>, TensorRole, () -> String) -> Void) {
        walk = TensorWalk(layouts: TensorLayouts.table(for: Scalar.self), isReadOnly: readOnly) { pointer, role, path in
            body(&pointer.assumingMemoryBound(to: Tensor<Scalar>.self).pointee, role) { path.joined(separator: ".") }
        }
    }

    /// Wraps a walk (a module met during a walk).
    init(walk: TensorWalk) { self.walk = walk }

    /// Visits one tensor under `name` (relative to the value being visited).
    public mutating func visit(_ tensor: inout Tensor<Scalar>, named name: String, role: TensorRole = .parameter) {
        withUnsafeMutablePointer(to: &tensor) { walk.visitTensor(at: $0, named: name, role: role) }
    }

    /// Visits whatever tensors `value` holds under `name`: a tensor, an optional, array or dictionary of
    /// them, a module (through its `visitTensors(with:)`), an existential holding a module, or any other
    /// struct or tuple by reflection over its stored properties.
    public mutating func visit<Value>(_ value: inout Value, named name: String) {
        let layout = walk.layouts.layout(of: Value.self)
        guard layout.holdsTensors else { return }
        withUnsafeMutablePointer(to: &value) { walk.visit(layout, at: $0, named: name) }
    }

    /// Visits the elements of an array or dictionary under their indices or keys, without a name for the
    /// container itself (as `Sequential` names its layers `0`, `1`, …).
    public mutating func visitElements<Value>(of container: inout Value) {
        let layout = walk.layouts.layout(of: Value.self)
        guard layout.holdsTensors else { return }
        withUnsafeMutablePointer(to: &container) { walk.visit(layout, at: $0) }
    }

    /// Visits the tensors held by the stored properties of `value` (a struct or tuple), each under its
    /// property's name, in declaration order: what `Module.visitTensors(with:)` does by default.
    ///
    /// - Precondition: `Value` is not a class (models are values).
    public mutating func visitStoredProperties<Value>(of value: inout Value) {
        withUnsafeMutablePointer(to: &value) { walk.visitStoredProperties(of: Value.self, at: $0) }
    }
}

extension TensorVisitor {
    /// The tensors of a role that `visit` finds, in order (the walk only reads).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    static func tensors(_ role: TensorRole, visiting visit: (inout TensorVisitor) -> Void) -> [Tensor<Scalar>] {
        var result: [Tensor<Scalar>] = []
        withoutActuallyEscaping({ (tensor: Tensor<Scalar>) in result.append(tensor) }) { append in
            var visitor = TensorVisitor(readOnly: true) { tensor, tensorRole, _ in
                if tensorRole == role { append(tensor) }
            }
            visit(&visitor)
        }
        return result
    }

    /// The names and tensors of a role that `visit` finds, in order (the walk only reads).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    static func namedTensors(_ role: TensorRole, visiting visit: (inout TensorVisitor) -> Void)
        -> [(name: String, value: Tensor<Scalar>)]
    {
        var result: [(name: String, value: Tensor<Scalar>)] = []
        withoutActuallyEscaping({ (name: String, tensor: Tensor<Scalar>) in result.append((name, tensor)) }) { append in
            var visitor = TensorVisitor(readOnly: true) { tensor, tensorRole, name in
                if tensorRole == role { append(name(), tensor) }
            }
            visit(&visitor)
        }
        return result
    }

    /// Swaps each parameter of `module` with the next of `values` (placeholders when nil) and returns what
    /// was there, in order; no shape is checked (used in pairs by `takeParameters`/`restoreParameters`).
    static func exchangeParameters<M: Module>(of module: inout M, with values: [Tensor<Scalar>]?) -> [Tensor<Scalar>]
    where M.Scalar == Scalar {
        var taken: [Tensor<Scalar>] = []
        var index = 0
        var visitor = TensorVisitor(readOnly: false) { tensor, role, _ in
            guard role == .parameter else { return }
            var replacement = values.map { $0[index] } ?? Tensor<Scalar>(0)
            swap(&tensor, &replacement)
            taken.append(replacement)
            index += 1
        }
        module.visitTensors(with: &visitor)
        if let values { precondition(index == values.count, "\(M.self): \(index) parameters, \(values.count) put back") }
        return taken
    }

    /// Replaces the tensors of a role that `visit` finds, in order, by `values`, checking their number and
    /// shapes; `api` and `owner` name the operation and the module in messages.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    static func replaceTensors(
        _ role: TensorRole, with values: [Tensor<Scalar>], api: String, owner: Any.Type,
        visiting visit: (inout TensorVisitor) -> Void
    ) {
        var index = 0
        withoutActuallyEscaping({ (tensor: inout Tensor<Scalar>, name: () -> String) in
            precondition(
                index < values.count,
                "\(api): \(owner) has more than the \(values.count) \(role.plural) given (next: \(name()))")
            precondition(
                values[index].shape == tensor.shape,
                "\(api): \(name()) has shape \(tensor.shape), got a tensor of shape \(values[index].shape)")
            tensor = values[index]
            index += 1
        }) { replace in
            var visitor = TensorVisitor(readOnly: false) { tensor, tensorRole, name in
                if tensorRole == role { replace(&tensor, name) }
            }
            visit(&visitor)
        }
        precondition(index == values.count, "\(api): \(owner) has \(index) \(role.plural), got \(values.count)")
    }
}
