/// A generic container whose elements are searched for tensors: arrays, optionals, dictionaries with
/// string keys, `@Buffer`.
protocol TensorContainer {
    /// How containers of this type are visited, given how their elements are.
    static func layout(in layouts: TensorLayouts) -> TensorLayout
}

extension Array: TensorContainer {
    /// Each element under its index.
    static func layout(in layouts: TensorLayouts) -> TensorLayout {
        let element = layouts.layout(of: Element.self)
        guard element.holdsTensors else { return .noTensors }
        return .custom { pointer, walk in
            let array = pointer.assumingMemoryBound(to: [Element].self)
            if walk.isReadOnly {
                array.pointee.withUnsafeBufferPointer { elements in
                    guard let base = elements.baseAddress else { return }
                    for index in elements.indices {
                        walk.visit(element, at: UnsafeMutableRawPointer(mutating: base + index), named: TensorWalk.indexName(index))
                    }
                }
            } else {
                array.pointee.withUnsafeMutableBufferPointer { elements in
                    guard let base = elements.baseAddress else { return }
                    for index in elements.indices { walk.visit(element, at: base + index, named: TensorWalk.indexName(index)) }
                }
            }
        }
    }
}

extension Optional: TensorContainer {
    /// The wrapped value, if any, in place, under the optional's own name.
    static func layout(in layouts: TensorLayouts) -> TensorLayout {
        let wrapped = layouts.layout(of: Wrapped.self)
        guard wrapped.holdsTensors else { return .noTensors }
        return .custom { pointer, walk in
            let optional = pointer.assumingMemoryBound(to: Wrapped?.self)
            guard optional.pointee != nil else { return }
            withUnsafeMutablePointer(to: &optional.pointee!) { walk.visit(wrapped, at: $0) }
        }
    }
}

extension Dictionary: TensorContainer {
    /// Each value under its key, keys in sorted order (PyTorch's `ModuleDict` keeps insertion order,
    /// which a Swift dictionary does not have). Only dictionaries with `String` keys are searched.
    static func layout(in layouts: TensorLayouts) -> TensorLayout {
        let value = layouts.layout(of: Value.self)
        guard Key.self == String.self, value.holdsTensors else { return .noTensors }
        return .custom { pointer, walk in
            let dictionary = pointer.assumingMemoryBound(to: [Key: Value].self)
            for key in dictionary.pointee.keys.sorted(by: { "\($0)" < "\($1)" }) {
                if walk.isReadOnly {
                    guard var element = dictionary.pointee[key] else { continue }
                    withUnsafeMutablePointer(to: &element) { walk.visit(value, at: $0, named: "\(key)") }
                } else {
                    withUnsafeMutablePointer(to: &dictionary.pointee[key]!) { walk.visit(value, at: $0, named: "\(key)") }
                }
            }
        }
    }
}

extension Buffer: TensorContainer {
    /// The wrapped value's tensors, as buffers, under the property's name.
    static func layout(in layouts: TensorLayouts) -> TensorLayout {
        let wrapped = layouts.layout(of: Value.self)
        guard wrapped.holdsTensors else { return .noTensors }
        return .custom { pointer, walk in
            let buffer = pointer.assumingMemoryBound(to: Buffer.self)
            withUnsafeMutablePointer(to: &buffer.pointee.wrappedValue) { walk.visitAsBuffers(wrapped, at: $0) }
        }
    }
}
