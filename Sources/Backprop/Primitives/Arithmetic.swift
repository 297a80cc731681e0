// Addition, subtraction, multiplication, division and negation: forward values and local derivatives.

@usableFromInline enum Addition: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .add }
    @usableFromInline static var name: String { "add" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a + b }
    // ∂(a+b)/∂a = 1, ∂(a+b)/∂b = 1
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (1, 1) }
    @usableFromInline static func partials<S: TensorScalar>(at a: Tensor<S>, _ b: Tensor<S>, value y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        (Tensor(1), Tensor(1))
    }
}

@usableFromInline enum Subtraction: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .subtract }
    @usableFromInline static var name: String { "subtract" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a - b }
    // ∂(a−b)/∂a = 1, ∂(a−b)/∂b = −1
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (1, -1) }
    @usableFromInline static func partials<S: TensorScalar>(at a: Tensor<S>, _ b: Tensor<S>, value y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        (Tensor(1), Tensor(-1))
    }
}

@usableFromInline enum Multiplication: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .multiply }
    @usableFromInline static var name: String { "multiply" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a * b }
    // ∂(ab)/∂a = b, ∂(ab)/∂b = a
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (b, a) }
    @usableFromInline static func partials<S: TensorScalar>(at a: Tensor<S>, _ b: Tensor<S>, value y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        (b, a)
    }
}

@usableFromInline enum Division: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .divide }
    @usableFromInline static var name: String { "divide" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a / b }
    // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (1 / b, -y / b) }
    @usableFromInline static func partials<S: TensorScalar>(at a: Tensor<S>, _ b: Tensor<S>, value y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        (1 / b, -y / b)
    }
}

extension Tensor {
    /// The tensor path of a binary primitive, specialised in this module for `Float` and `Double`.
    @usableFromInline @_specialize(where Scalar == Double, P == Addition) @_specialize(where Scalar == Float, P == Addition)
    @_specialize(where Scalar == Double, P == Subtraction) @_specialize(where Scalar == Float, P == Subtraction)
    @_specialize(where Scalar == Double, P == Multiplication) @_specialize(where Scalar == Float, P == Multiplication)
    @_specialize(where Scalar == Double, P == Division) @_specialize(where Scalar == Float, P == Division)
    @_specialize(where Scalar == Double, P == Power) @_specialize(where Scalar == Float, P == Power)
    @_specialize(where Scalar == Double, P == Maximum) @_specialize(where Scalar == Float, P == Maximum)
    @_specialize(where Scalar == Double, P == Minimum) @_specialize(where Scalar == Float, P == Minimum)
    static func applyingToTensors<P: BinaryPrimitive>(_: P.Type, _ a: Tensor, _ b: Tensor) -> Tensor {
        applying(P.self, a, b)
    }

    /// Elementwise sum with broadcasting.
    @inlinable @inline(__always) public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.dimensions.isEmpty && rhs.dimensions.isEmpty { return applyingToScalars(Addition.self, lhs, rhs) }
        return applyingToTensors(Addition.self, lhs, rhs)
    }
    /// Elementwise difference with broadcasting.
    @inlinable @inline(__always) public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.dimensions.isEmpty && rhs.dimensions.isEmpty { return applyingToScalars(Subtraction.self, lhs, rhs) }
        return applyingToTensors(Subtraction.self, lhs, rhs)
    }
    /// Elementwise product with broadcasting.
    @inlinable @inline(__always) public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.dimensions.isEmpty && rhs.dimensions.isEmpty { return applyingToScalars(Multiplication.self, lhs, rhs) }
        return applyingToTensors(Multiplication.self, lhs, rhs)
    }
    /// Elementwise quotient with broadcasting.
    @inlinable @inline(__always) public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.dimensions.isEmpty && rhs.dimensions.isEmpty { return applyingToScalars(Division.self, lhs, rhs) }
        return applyingToTensors(Division.self, lhs, rhs)
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
        x.dimensions.isEmpty ? x.applyingToScalar(Negation.self) : x.applyingToTensor(Negation.self)
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
