// Powers, and the elementwise maximum and minimum of two tensors.

@usableFromInline enum Power: BinaryPrimitive {
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
}

@usableFromInline enum Maximum: BinaryPrimitive {
    @usableFromInline static var name: String { "max" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a >= b ? a : b }
    // The gradient is routed to the larger input (to the first on a tie).
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { a >= b ? (1, 0) : (0, 1) }
}

@usableFromInline enum Minimum: BinaryPrimitive {
    @usableFromInline static var name: String { "min" }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a <= b ? a : b }
    // The gradient is routed to the smaller input (to the first on a tie).
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { a <= b ? (1, 0) : (0, 1) }
}

/// `base` raised to `exponent`, elementwise with broadcasting.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func pow<Scalar>(_ base: Tensor<Scalar>, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor.applying(Power.self, base, exponent)
}
/// `base` raised to a constant `exponent`, elementwise.
public func pow<Scalar>(_ base: Tensor<Scalar>, _ exponent: Scalar) -> Tensor<Scalar> { pow(base, Tensor(exponent)) }
/// A constant `base` raised to `exponent`, elementwise.
public func pow<Scalar>(_ base: Scalar, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> { pow(Tensor(base), exponent) }

/// The elementwise maximum of two tensors, with broadcasting. The gradient goes to the larger input.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func max<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor.applying(Maximum.self, a, b)
}
/// The elementwise minimum of two tensors, with broadcasting. The gradient goes to the smaller input.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func min<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor.applying(Minimum.self, a, b)
}
/// The elementwise maximum of a tensor and a constant.
public func max<Scalar>(_ a: Tensor<Scalar>, _ b: Scalar) -> Tensor<Scalar> { max(a, Tensor(b)) }
/// The elementwise minimum of a tensor and a constant.
public func min<Scalar>(_ a: Tensor<Scalar>, _ b: Scalar) -> Tensor<Scalar> { min(a, Tensor(b)) }

extension Tensor {
    /// The elementwise square, x².
    public func squared() -> Tensor { self * self }
}
