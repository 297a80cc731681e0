// Addition, subtraction, multiplication, division and negation: forward values and local derivatives.

@usableFromInline enum Addition: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .add }
    @usableFromInline static var name: String { "add" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a + b }
    // ∂(a+b)/∂a = 1, ∂(a+b)/∂b = 1
    @inlinable static func partials<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A) -> (A, A) { (.one, .one) }
}

@usableFromInline enum Subtraction: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .subtract }
    @usableFromInline static var name: String { "subtract" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a - b }
    // ∂(a−b)/∂a = 1, ∂(a−b)/∂b = −1
    @inlinable static func partials<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A) -> (A, A) { (.one, -.one) }
}

@usableFromInline enum Multiplication: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .multiply }
    @usableFromInline static var name: String { "multiply" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a * b }
    // ∂(ab)/∂a = b, ∂(ab)/∂b = a
    @inlinable static func partials<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A) -> (A, A) { (b, a) }
}

@usableFromInline enum Division: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .divide }
    @usableFromInline static var name: String { "divide" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a / b }
    // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
    @inlinable static func partials<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A) -> (A, A) { (.one / b, -y / b) }
}

/// Applies a binary primitive, found by its code, to two tensors.
private struct ApplyBinary<Scalar: TensorScalar>: ElementwisePrimitiveVisitor {
    let a: Tensor<Scalar>, b: Tensor<Scalar>
    func visitUnary<P: UnaryPrimitive>(_: P.Type) -> Tensor<Scalar> { preconditionFailure("\(P.name) takes one argument") }
    func visitBinary<P: BinaryPrimitive>(_: P.Type) -> Tensor<Scalar> { Tensor.applying(P.self, a, b) }
}

extension Tensor {
    /// The tensor path of a binary primitive: one entry point specialised for `Float` and `Double`, in which
    /// the table's row for each code calls the path specialised for that primitive.
    @usableFromInline @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    static func applyingToTensors(_ code: ScalarPrimitiveCode, _ a: Tensor, _ b: Tensor) -> Tensor {
        code.visit(ApplyBinary(a: a, b: b))
    }

    /// Elementwise sum with broadcasting.
    @inlinable @inline(__always) public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.dimensions.isEmpty && rhs.dimensions.isEmpty { return applyingToScalars(Addition.self, lhs, rhs) }
        return applyingToTensors(Addition.code, lhs, rhs)
    }
    /// Elementwise difference with broadcasting.
    @inlinable @inline(__always) public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.dimensions.isEmpty && rhs.dimensions.isEmpty { return applyingToScalars(Subtraction.self, lhs, rhs) }
        return applyingToTensors(Subtraction.code, lhs, rhs)
    }
    /// Elementwise product with broadcasting.
    @inlinable @inline(__always) public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.dimensions.isEmpty && rhs.dimensions.isEmpty { return applyingToScalars(Multiplication.self, lhs, rhs) }
        return applyingToTensors(Multiplication.code, lhs, rhs)
    }
    /// Elementwise quotient with broadcasting.
    @inlinable @inline(__always) public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.dimensions.isEmpty && rhs.dimensions.isEmpty { return applyingToScalars(Division.self, lhs, rhs) }
        return applyingToTensors(Division.code, lhs, rhs)
    }

    /// Adds a scalar to every element.
    @inlinable @inline(__always) public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs + Tensor(rhs) }
    /// Adds a tensor to a scalar.
    @inlinable @inline(__always) public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
    /// Subtracts a scalar from every element.
    @inlinable @inline(__always) public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs - Tensor(rhs) }
    /// Subtracts every element from a scalar.
    @inlinable @inline(__always) public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
    /// Multiplies every element by a scalar.
    @inlinable @inline(__always) public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs * Tensor(rhs) }
    /// Multiplies a scalar by every element.
    @inlinable @inline(__always) public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
    /// Divides every element by a scalar.
    @inlinable @inline(__always) public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs / Tensor(rhs) }
    /// Divides a scalar by every element.
    @inlinable @inline(__always) public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }

    /// Elementwise negation: ∂(−x)/∂x = −1.
    @inlinable @inline(__always) public static prefix func - (x: Tensor) -> Tensor {
        x.dimensions.isEmpty ? x.applyingToScalar(Negation.self) : x.applyingToTensor(.negate)
    }

    /// Adds `rhs` into `lhs`.
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
    /// Subtracts `rhs` from `lhs`.
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
    /// Multiplies `lhs` by `rhs`.
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs * rhs }
    /// Divides `lhs` by `rhs`.
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs / rhs }
    /// Adds a scalar into `lhs`.
    public static func += (lhs: inout Tensor, rhs: Scalar) { lhs = lhs + rhs }
    /// Subtracts a scalar from `lhs`.
    public static func -= (lhs: inout Tensor, rhs: Scalar) { lhs = lhs - rhs }
    /// Multiplies `lhs` by a scalar.
    public static func *= (lhs: inout Tensor, rhs: Scalar) { lhs = lhs * rhs }
    /// Divides `lhs` by a scalar.
    public static func /= (lhs: inout Tensor, rhs: Scalar) { lhs = lhs / rhs }
}
