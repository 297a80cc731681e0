// Direct access to a tensor's contiguous values, for code outside the library that updates parameters
// in place (optimizers) or fills batches (data loaders) without per-element tensor operations.

extension Tensor {
    /// Calls `body` with the values, row-major and contiguous.
    public func withUnsafeScalars<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        requireHostReadable("withUnsafeScalars")
        return try withScalarBuffer(body)
    }

    /// Calls `body` with the values to modify in place, row-major and contiguous.
    ///
    /// The storage is copied first when another tensor shares it (copy-on-write). The result is a new
    /// value: gradient tracking stops here, as for an optimizer update.
    public mutating func withUnsafeMutableScalars<R>(
        _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        materializeDeferredValue()
        tape = nil
        node = -1
        if isTraced { annex = nil }
        if shape.isEmpty {
            return try withUnsafeMutablePointer(to: &scalarValue) {
                try body(UnsafeMutableBufferPointer(start: $0, count: 1))
            }
        }
        return try buffer.withUnsafeMutableBufferPointer { try body($0) }
    }
}
