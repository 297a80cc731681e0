/// An n-dimensional array of `Float` or `Double` values with value semantics, whose operations can be
/// recorded on a gradient tape for reverse-mode automatic differentiation.
///
/// Values are stored row-major and contiguous; copies share storage until one of them is mutated
/// (copy-on-write). A tensor of rank 0 (`shape == []`) holds one scalar inline, without a heap
/// allocation, which keeps scalar computation graphs cheap.
///
/// ```swift
/// let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let y = (x * 2 + 1).sum()          // Tensor<Double>(42)
/// ```
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {
    /// Row-major values for rank ≥ 1; empty for rank 0, and while the value is deferred.
    @usableFromInline var storage: [Scalar]
    /// The value of a rank-0 tensor.
    @usableFromInline var scalarValue: Scalar
    /// The size of each dimension; empty for a scalar.
    @usableFromInline var dimensions: [Int]

    /// The size of each dimension; empty for a scalar.
    @inlinable public var shape: [Int] { dimensions }
    /// The tape this tensor's value was recorded on, if any.
    @usableFromInline var tape: Tape<Scalar>?
    /// This tensor's node on `tape`.
    @usableFromInline var node: Int32
    /// What the tensor carries besides its value: for a tensor that requires a gradient (PyTorch style), where
    /// its gradient accumulates; for a traced tensor (inside `compiled`), its marker. Nil for most tensors.
    @usableFromInline var annex: TensorAnnex<Scalar>?

    /// Creates a rank-0 tensor (a scalar).
    /// Creates a rank-0 tensor (a scalar).
    @inlinable
    public init(_ value: Scalar) {
        storage = []
        scalarValue = value
        dimensions = []
        tape = nil
        node = -1
        annex = nil
    }

    /// Creates a tensor of the given shape from row-major values.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`, and no dimension is negative.
    public init(shape: [Int], scalars: [Scalar]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:scalars:): negative dimension in shape \(shape)")
        let count = shape.reduce(1, *)
        precondition(
            count == scalars.count,
            "Tensor(shape:scalars:): shape \(shape) needs \(count) values, got \(scalars.count)")
        self.init(shape: shape, buffer: scalars)
    }

    /// Creates a rank-1 tensor from values.
    public init(_ scalars: [Scalar]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// Creates a tensor of the given shape with every element equal to `value`.
    public init(repeating value: Scalar, shape: [Int]) {
        self.init(shape: shape, scalars: [Scalar](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public static func zeros(shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }

    /// A tensor of ones.
    public static func ones(shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// A tensor of the given shape with every element equal to `value`.
    public static func filled(_ value: Scalar, shape: [Int]) -> Tensor { Tensor(repeating: value, shape: shape) }

    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The number of elements.
    @inlinable public var scalarCount: Int {
        shape.isEmpty ? 1 : storage.isEmpty ? shape.reduce(1, *) : storage.count
    }

    /// Whether the value may be deferred (see `DeferredValue`): a tensor of rank ≥ 1 on a tape with no
    /// values stored. (A tensor with no elements looks the same; its tape has no deferred value for it.)
    @inlinable var mayBeDeferred: Bool { storage.isEmpty && !dimensions.isEmpty && tape != nil }

    /// Row-major values for rank ≥ 1 (empty for rank 0), computed first if they were deferred.
    @inlinable var buffer: [Scalar] {
        get { mayBeDeferred ? deferredValues() : storage }
        set { storage = newValue }
        _modify {
            if mayBeDeferred { materializeDeferredValue() }
            yield &storage
        }
    }

    /// The values in row-major order.
    ///
    /// Setting them replaces the values (keeping the shape) and stops gradient tracking through the
    /// result, as an optimizer update does.
    public var scalars: [Scalar] {
        get {
            requireHostReadable("Tensor.scalars")
            return shape.isEmpty ? [scalarValue] : buffer
        }
        set {
            precondition(
                newValue.count == scalarCount,
                "Tensor.scalars: shape \(shape) needs \(scalarCount) values, got \(newValue.count)")
            if shape.isEmpty { scalarValue = newValue[0] } else { buffer = newValue }
            tape = nil
            node = -1
            // New values are a constant, also inside a trace.
            if isTraced { annex = nil }
        }
    }

    /// The single value of a one-element tensor.
    ///
    /// - Precondition: the tensor has exactly one element.
    public var scalar: Scalar {
        requireHostReadable("Tensor.scalar")
        if shape.isEmpty { return scalarValue }
        precondition(buffer.count == 1, "Tensor.scalar: needs one element, shape is \(shape)")
        return buffer[0]
    }

    /// A value-only tensor with the given shape and storage (no tracking).
    @inlinable
    init(shape: [Int], buffer: [Scalar]) {
        self.storage = shape.isEmpty ? [] : buffer
        self.scalarValue = shape.isEmpty ? (buffer.isEmpty ? 0 : buffer[0]) : 0
        self.dimensions = shape
        self.tape = nil
        self.node = -1
        self.annex = nil
    }

    /// Calls `body` with the values as a contiguous buffer.
    @inlinable
    func withScalarBuffer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        if shape.isEmpty {
            return try withUnsafePointer(to: scalarValue) { try body(UnsafeBufferPointer(start: $0, count: 1)) }
        }
        return try buffer.withUnsafeBufferPointer(body)
    }

    /// Reads the element at a multi-dimensional index.
    public subscript(index indices: Int...) -> Scalar {
        requireHostReadable("Tensor[index:]")
        precondition(indices.count == rank, "Tensor[index:]: \(indices.count) indices for shape \(shape)")
        if shape.isEmpty { return scalarValue }
        var offset = 0
        for (axis, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[axis], "Tensor[index:]: index \(indices) out of range for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return buffer[offset]
    }
}

extension Tensor: CustomStringConvertible {
    /// A readable rendering: the values nested by dimension, or the scalar.
    public var description: String {
        requireHostReadable("Tensor.description")
        if shape.isEmpty { return "\(scalarValue)" }
        func render(_ axis: Int, _ offset: Int) -> String {
            let stride = shape[(axis + 1)...].reduce(1, *)
            if axis == rank - 1 {
                return "[" + (0..<shape[axis]).map { "\(buffer[offset + $0])" }.joined(separator: ", ") + "]"
            }
            return "[" + (0..<shape[axis]).map { render(axis + 1, offset + $0 * stride) }.joined(separator: ", ") + "]"
        }
        return render(0, 0)
    }
}

extension Tensor: Equatable {
    /// Two tensors are equal when their shapes and values are equal (tracking is ignored).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.requireHostReadable("Tensor == Tensor")
        rhs.requireHostReadable("Tensor == Tensor")
        return lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}

extension Tensor {
    /// Converts the values to another scalar type (not recorded on the tape).
    public func converted<Other: TensorScalar>(to type: Other.Type = Other.self) -> Tensor<Other> {
        requireHostReadable("converted(to:)")
        return Tensor<Other>(shape: shape, scalars: scalars.map { Other($0) })
    }
}
