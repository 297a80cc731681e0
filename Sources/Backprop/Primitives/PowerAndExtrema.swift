// Powers, and the elementwise maximum and minimum of two tensors.

@usableFromInline enum Power: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .power }
    @usableFromInline static var name: String { "pow" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S {
        // Integral exponents of negative bases are common in formulas ((x+y)^2); pow handles them.
        S.pow(a, b)
    }
    // ∂aᵇ/∂a = b·aᵇ⁻¹, ∂aᵇ/∂b = aᵇ·ln a (taken as 0 where a ≤ 0 and the power is defined anyway)
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) {
        let da = b == 0 ? 0 : b * S.pow(a, b - 1)
        let db = a > 0 ? y * S.log(a) : 0
        return (da, db)
    }
    @usableFromInline static func partials<S: TensorScalar>(at a: Tensor<S>, _ b: Tensor<S>, value y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        // Where b = 0 the first partial is 0 (the exponent b − 1 is shifted to 0 there so no 0·∞ appears);
        // where a ≤ 0 the second is 0 (log is taken of 1 there). The masks are constants.
        let ca = a.detached(), cb = b.detached()
        let exponentIsZero = cb .== 0, baseIsPositive = ca .> 0
        let da = b * pow(a, b - 1 + exponentIsZero) * (1 - exponentIsZero)
        let db = y * log(a * baseIsPositive + (1 - baseIsPositive)) * baseIsPositive
        return (da, db)
    }
}

@usableFromInline enum Maximum: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .maximum }
    @usableFromInline static var name: String { "max" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a >= b ? a : b }
    // The gradient is routed to the larger input (to the first on a tie).
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { a >= b ? (1, 0) : (0, 1) }
    @usableFromInline static func partials<S: TensorScalar>(at a: Tensor<S>, _ b: Tensor<S>, value y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        let routeA = a.detached() .>= b.detached()
        return (routeA, 1 - routeA)
    }
}

@usableFromInline enum Minimum: BinaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .minimum }
    @usableFromInline static var name: String { "min" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a <= b ? a : b }
    // The gradient is routed to the smaller input (to the first on a tie).
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { a <= b ? (1, 0) : (0, 1) }
    @usableFromInline static func partials<S: TensorScalar>(at a: Tensor<S>, _ b: Tensor<S>, value y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        let routeA = a.detached() .<= b.detached()
        return (routeA, 1 - routeA)
    }
}

/// `base` raised to `exponent`, elementwise with broadcasting.
@inlinable @inline(__always) public func pow<Scalar>(_ base: Tensor<Scalar>, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> {
    if base.dimensions.isEmpty && exponent.dimensions.isEmpty { return Tensor.applyingToScalars(Power.self, base, exponent) }
    return Tensor.applyingToTensors(Power.self, base, exponent)
}
/// `base` raised to a constant `exponent`, elementwise.
@inlinable @inline(__always) public func pow<Scalar>(_ base: Tensor<Scalar>, _ exponent: Scalar) -> Tensor<Scalar> { pow(base, Tensor(exponent)) }
/// A constant `base` raised to `exponent`, elementwise.
@inlinable @inline(__always) public func pow<Scalar>(_ base: Scalar, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> { pow(Tensor(base), exponent) }

/// The elementwise maximum of two tensors, with broadcasting. The gradient goes to the larger input.
@inlinable @inline(__always) public func max<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
    if a.dimensions.isEmpty && b.dimensions.isEmpty { return Tensor.applyingToScalars(Maximum.self, a, b) }
    return Tensor.applyingToTensors(Maximum.self, a, b)
}
/// The elementwise minimum of two tensors, with broadcasting. The gradient goes to the smaller input.
@inlinable @inline(__always) public func min<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
    if a.dimensions.isEmpty && b.dimensions.isEmpty { return Tensor.applyingToScalars(Minimum.self, a, b) }
    return Tensor.applyingToTensors(Minimum.self, a, b)
}
/// The elementwise maximum of a tensor and a constant.
@inlinable @inline(__always) public func max<Scalar>(_ a: Tensor<Scalar>, _ b: Scalar) -> Tensor<Scalar> { max(a, Tensor(b)) }
/// The elementwise minimum of a tensor and a constant.
@inlinable @inline(__always) public func min<Scalar>(_ a: Tensor<Scalar>, _ b: Scalar) -> Tensor<Scalar> { min(a, Tensor(b)) }

extension Tensor {
    /// The elementwise square, x².
    public func squared() -> Tensor { self * self }
}
