/// The operations an elementwise primitive's local derivative is written in.
///
/// A primitive states its derivative once, generic over this algebra, and the engine evaluates that one
/// expression on numbers (`Number`: scalar records and the fused first-order loops) and on tensors
/// (`TensorExpression`: the differentiable rules of higher orders, which are themselves recorded and traced).
/// The comparisons give constant 0/1 masks, never differentiated, which is how the engine defines derivatives
/// at kinks (relu′(0) = 0, ties routed to the first argument).
@usableFromInline
protocol ElementwiseAlgebra {
    /// The constant `value`.
    static func constant(_ value: Double) -> Self
    /// a + b.
    static func + (a: Self, b: Self) -> Self
    /// a − b.
    static func - (a: Self, b: Self) -> Self
    /// a · b.
    static func * (a: Self, b: Self) -> Self
    /// a / b.
    static func / (a: Self, b: Self) -> Self
    /// −a.
    static prefix func - (a: Self) -> Self
    /// eˣ.
    static func exp(_ x: Self) -> Self
    /// ln x.
    static func log(_ x: Self) -> Self
    /// sin x.
    static func sin(_ x: Self) -> Self
    /// cos x.
    static func cos(_ x: Self) -> Self
    /// aᵇ.
    static func pow(_ a: Self, _ b: Self) -> Self
    /// 1 where a > b, else 0: a constant.
    static func isGreater(_ a: Self, _ b: Self) -> Self
    /// 1 where a ≥ b, else 0: a constant.
    static func isGreaterOrEqual(_ a: Self, _ b: Self) -> Self
    /// 1 where a = b, else 0: a constant.
    static func isEqual(_ a: Self, _ b: Self) -> Self
}

extension ElementwiseAlgebra {
    /// The constant 1.
    @inlinable static var one: Self { constant(1) }
    /// The constant 0.
    @inlinable static var zero: Self { constant(0) }
}

/// A number of the algebra: the derivative evaluated on one scalar (a wrapper the optimiser removes).
@usableFromInline @frozen
struct Number<S: TensorScalar>: ElementwiseAlgebra {
    /// The number.
    @usableFromInline var value: S
    @inlinable init(_ value: S) { self.value = value }
    @inlinable static func constant(_ value: Double) -> Number { Number(S(value)) }
    @inlinable static func + (a: Number, b: Number) -> Number { Number(a.value + b.value) }
    @inlinable static func - (a: Number, b: Number) -> Number { Number(a.value - b.value) }
    @inlinable static func * (a: Number, b: Number) -> Number { Number(a.value * b.value) }
    @inlinable static func / (a: Number, b: Number) -> Number { Number(a.value / b.value) }
    @inlinable static prefix func - (a: Number) -> Number { Number(-a.value) }
    @inlinable static func exp(_ x: Number) -> Number { Number(S.exp(x.value)) }
    @inlinable static func log(_ x: Number) -> Number { Number(S.log(x.value)) }
    @inlinable static func sin(_ x: Number) -> Number { Number(S.sin(x.value)) }
    @inlinable static func cos(_ x: Number) -> Number { Number(S.cos(x.value)) }
    @inlinable static func pow(_ a: Number, _ b: Number) -> Number { Number(S.pow(a.value, b.value)) }
    @inlinable static func isGreater(_ a: Number, _ b: Number) -> Number { Number(a.value > b.value ? 1 : 0) }
    @inlinable static func isGreaterOrEqual(_ a: Number, _ b: Number) -> Number { Number(a.value >= b.value ? 1 : 0) }
    @inlinable static func isEqual(_ a: Number, _ b: Number) -> Number { Number(a.value == b.value ? 1 : 0) }
}

/// A tensor of the algebra: the derivative as tensor operations, recorded (and traced) like any others, so
/// that it can be differentiated again. Masks are computed from detached values.
struct TensorExpression<S: TensorScalar>: ElementwiseAlgebra {
    /// The tensor.
    var tensor: Tensor<S>
    init(_ tensor: Tensor<S>) { self.tensor = tensor }
    static func constant(_ value: Double) -> TensorExpression { TensorExpression(Tensor(S(value))) }
    static func + (a: TensorExpression, b: TensorExpression) -> TensorExpression { TensorExpression(a.tensor + b.tensor) }
    static func - (a: TensorExpression, b: TensorExpression) -> TensorExpression { TensorExpression(a.tensor - b.tensor) }
    static func * (a: TensorExpression, b: TensorExpression) -> TensorExpression { TensorExpression(a.tensor * b.tensor) }
    static func / (a: TensorExpression, b: TensorExpression) -> TensorExpression { TensorExpression(a.tensor / b.tensor) }
    static prefix func - (a: TensorExpression) -> TensorExpression { TensorExpression(-a.tensor) }
    static func exp(_ x: TensorExpression) -> TensorExpression { TensorExpression(Backprop.exp(x.tensor)) }
    static func log(_ x: TensorExpression) -> TensorExpression { TensorExpression(Backprop.log(x.tensor)) }
    static func sin(_ x: TensorExpression) -> TensorExpression { TensorExpression(Backprop.sin(x.tensor)) }
    static func cos(_ x: TensorExpression) -> TensorExpression { TensorExpression(Backprop.cos(x.tensor)) }
    static func pow(_ a: TensorExpression, _ b: TensorExpression) -> TensorExpression {
        TensorExpression(Backprop.pow(a.tensor, b.tensor))
    }
    static func isGreater(_ a: TensorExpression, _ b: TensorExpression) -> TensorExpression {
        TensorExpression(a.tensor.detached() .> b.tensor.detached())
    }
    static func isGreaterOrEqual(_ a: TensorExpression, _ b: TensorExpression) -> TensorExpression {
        TensorExpression(a.tensor.detached() .>= b.tensor.detached())
    }
    static func isEqual(_ a: TensorExpression, _ b: TensorExpression) -> TensorExpression {
        TensorExpression(a.tensor.detached() .== b.tensor.detached())
    }
}
