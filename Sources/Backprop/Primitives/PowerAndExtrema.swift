// Powers, and the elementwise maximum and minimum of two tensors.

@usableFromInline enum Power: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .power }
    @usableFromInline static var name: String { "pow" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S {
        // Integral exponents of negative bases are common in formulas ((x+y)^2); pow handles them.
        S.pow(a, b)
    }
    // ∂aᵇ/∂a = b·aᵇ⁻¹, ∂aᵇ/∂b = aᵇ·ln a (taken as 0 where a ≤ 0 and the power is defined anyway)
    @inlinable static func partials<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A) -> (A, A) {
        // Where b = 0 the first partial is 0 (the exponent b − 1 is shifted to 0 there so no 0·∞ appears);
        // where a ≤ 0 the second is 0 (log is taken of 1 there). The masks are constants.
        let exponentIsZero = A.isEqual(b, .zero), baseIsPositive = A.isGreater(a, .zero)
        let da = b * .pow(a, b - .one + exponentIsZero) * (.one - exponentIsZero)
        let db = y * .log(a * baseIsPositive + (.one - baseIsPositive)) * baseIsPositive
        return (da, db)
    }
}

@usableFromInline enum Maximum: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .maximum }
    @usableFromInline static var name: String { "max" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a >= b ? a : b }
    // The gradient is routed to the larger input (to the first on a tie).
    @inlinable static func partials<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A) -> (A, A) {
        let routeA = A.isGreaterOrEqual(a, b)
        return (routeA, .one - routeA)
    }
}

@usableFromInline enum Minimum: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .minimum }
    @usableFromInline static var name: String { "min" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a <= b ? a : b }
    // The gradient is routed to the smaller input (to the first on a tie).
    @inlinable static func partials<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A) -> (A, A) {
        let routeA = A.isGreaterOrEqual(b, a)
        return (routeA, .one - routeA)
    }
}

/// `base` raised to `exponent`, elementwise with broadcasting.
@inlinable @inline(__always) public func pow<Scalar>(_ base: Tensor<Scalar>, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> {
    if base.dimensions.isEmpty && exponent.dimensions.isEmpty { return Tensor.applyingToScalars(Power.self, base, exponent) }
    return Tensor.applyingToTensors(Power.code, base, exponent)
}
/// `base` raised to a constant `exponent`, elementwise.
@inlinable @inline(__always) public func pow<Scalar>(_ base: Tensor<Scalar>, _ exponent: Scalar) -> Tensor<Scalar> { pow(base, Tensor(exponent)) }
/// A constant `base` raised to `exponent`, elementwise.
@inlinable @inline(__always) public func pow<Scalar>(_ base: Scalar, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> { pow(Tensor(base), exponent) }

/// The elementwise maximum of two tensors, with broadcasting. The gradient goes to the larger input.
@inlinable @inline(__always) public func max<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
    if a.dimensions.isEmpty && b.dimensions.isEmpty { return Tensor.applyingToScalars(Maximum.self, a, b) }
    return Tensor.applyingToTensors(Maximum.code, a, b)
}
/// The elementwise minimum of two tensors, with broadcasting. The gradient goes to the smaller input.
@inlinable @inline(__always) public func min<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
    if a.dimensions.isEmpty && b.dimensions.isEmpty { return Tensor.applyingToScalars(Minimum.self, a, b) }
    return Tensor.applyingToTensors(Minimum.code, a, b)
}
/// The elementwise maximum of a tensor and a constant.
@inlinable @inline(__always) public func max<Scalar>(_ a: Tensor<Scalar>, _ b: Scalar) -> Tensor<Scalar> { max(a, Tensor(b)) }
/// The elementwise minimum of a tensor and a constant.
@inlinable @inline(__always) public func min<Scalar>(_ a: Tensor<Scalar>, _ b: Scalar) -> Tensor<Scalar> { min(a, Tensor(b)) }

extension Tensor {
    /// The elementwise square, x².
    public func squared() -> Tensor { self * self }
}
