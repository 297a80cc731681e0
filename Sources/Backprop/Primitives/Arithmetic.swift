// Addition, subtraction, multiplication, division and negation: forward values and local derivatives.

@usableFromInline enum Addition: BinaryPrimitive {
    @usableFromInline static var name: String { "add" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a + b }
    // ∂(a+b)/∂a = 1, ∂(a+b)/∂b = 1
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (1, 1) }
}

@usableFromInline enum Subtraction: BinaryPrimitive {
    @usableFromInline static var name: String { "subtract" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a - b }
    // ∂(a−b)/∂a = 1, ∂(a−b)/∂b = −1
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (1, -1) }
}

@usableFromInline enum Multiplication: BinaryPrimitive {
    @usableFromInline static var name: String { "multiply" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a * b }
    // ∂(ab)/∂a = b, ∂(ab)/∂b = a
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (b, a) }
}

@usableFromInline enum Division: BinaryPrimitive {
    @usableFromInline static var name: String { "divide" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a / b }
    // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (1 / b, -y / b) }
}

extension Tensor {
    /// Elementwise sum with broadcasting.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { applying(Addition.self, lhs, rhs) }
    /// Elementwise difference with broadcasting.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { applying(Subtraction.self, lhs, rhs) }
    /// Elementwise product with broadcasting.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { applying(Multiplication.self, lhs, rhs) }
    /// Elementwise quotient with broadcasting.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { applying(Division.self, lhs, rhs) }

    /// Adds a scalar to every element.
    public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs + Tensor(rhs) }
    /// Adds a tensor to a scalar.
    public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
    /// Subtracts a scalar from every element.
    public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs - Tensor(rhs) }
    /// Subtracts every element from a scalar.
    public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs * Tensor(rhs) }
    /// Multiplies a scalar by every element.
    public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
    /// Divides every element by a scalar.
    public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs / Tensor(rhs) }
    /// Divides a scalar by every element.
    public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }

    /// Elementwise negation: ∂(−x)/∂x = −1.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public static prefix func - (x: Tensor) -> Tensor { x.applying(Negation.self) }

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
