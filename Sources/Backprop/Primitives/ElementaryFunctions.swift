// The elementwise functions of one argument. Each primitive's value and derivative stand together.

@usableFromInline enum Negation: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .negate }
    @usableFromInline static var name: String { "negate" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { -x }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { -1 }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { Tensor(-1) }
}

@usableFromInline enum SquareRoot: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .squareRoot }
    @usableFromInline static var name: String { "sqrt" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { x.squareRoot() }
    // d√x/dx = 1 / (2√x)
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { 1 / (2 * y) }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { 1 / (2 * y) }
}

@usableFromInline enum Exponential: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .exponential }
    @usableFromInline static var name: String { "exp" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.exp(x) }
    // d eˣ/dx = eˣ
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { y }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { y }
}

@usableFromInline enum Logarithm: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .logarithm }
    @usableFromInline static var name: String { "log" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.log(x) }
    // d ln x/dx = 1/x
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { 1 / x }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { 1 / x }
}

@usableFromInline enum Sine: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .sine }
    @usableFromInline static var name: String { "sin" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.sin(x) }
    // d sin x/dx = cos x
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { S.cos(x) }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { cos(x) }
}

@usableFromInline enum Cosine: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .cosine }
    @usableFromInline static var name: String { "cos" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.cos(x) }
    // d cos x/dx = −sin x
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { -S.sin(x) }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { -sin(x) }
}

@usableFromInline enum Tangent: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .tangent }
    @usableFromInline static var name: String { "tan" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.tan(x) }
    // d tan x/dx = 1 + tan² x
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { 1 + y * y }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { 1 + y * y }
}

@usableFromInline enum HyperbolicTangent: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .hyperbolicTangent }
    @usableFromInline static var name: String { "tanh" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.tanh(x) }
    // d tanh x/dx = 1 − tanh² x
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { 1 - y * y }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { 1 - y * y }
}

@usableFromInline enum Sigmoid: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .sigmoid }
    @usableFromInline static var name: String { "sigmoid" }
    // σ(x) = 1 / (1 + e⁻ˣ), evaluated without overflow for large |x|.
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S {
        if x >= 0 { return 1 / (1 + S.exp(-x)) }
        let e = S.exp(x)
        return e / (1 + e)
    }
    // dσ/dx = σ(x)(1 − σ(x))
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { y * (1 - y) }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { y * (1 - y) }
}

@usableFromInline enum ErrorFunction: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .errorFunction }
    @usableFromInline static var name: String { "erf" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.erf(x) }
    // d erf x/dx = 2/√π · e^(−x²)
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { S(1.1283791670955126) * S.exp(-x * x) }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> {
        S(1.1283791670955126) * exp(-(x * x))
    }
}

@usableFromInline enum RectifiedLinear: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .rectifiedLinear }
    @usableFromInline static var name: String { "relu" }
    // NaN stays NaN (as PyTorch, and as the vectorised tensor kernel): !(x <= 0) is true for NaN.
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { !(x <= 0) ? x : 0 }
    // d relu/dx = 1 for x > 0, else 0 (0 at the kink, as PyTorch)
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { x > 0 ? 1 : 0 }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { x.detached() .> 0 }
}

@usableFromInline enum AbsoluteValue: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .absoluteValue }
    @usableFromInline static var name: String { "abs" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { Swift.abs(x) }
    // d|x|/dx = sign(x) (0 at 0)
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S) -> S { x > 0 ? 1 : (x < 0 ? -1 : 0) }
    @usableFromInline static func derivative<S: TensorScalar>(at x: Tensor<S>, value y: Tensor<S>) -> Tensor<S> { (x.detached() .> 0) - (x.detached() .< 0) }
}

/// The elementwise square root.
@inlinable @inline(__always) public func sqrt<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(SquareRoot.self) : x.applyingToTensor(SquareRoot.self)
}
/// The elementwise exponential eˣ.
@inlinable @inline(__always) public func exp<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Exponential.self) : x.applyingToTensor(Exponential.self)
}
/// The elementwise natural logarithm.
@inlinable @inline(__always) public func log<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Logarithm.self) : x.applyingToTensor(Logarithm.self)
}
/// The elementwise sine.
@inlinable @inline(__always) public func sin<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Sine.self) : x.applyingToTensor(Sine.self)
}
/// The elementwise cosine.
@inlinable @inline(__always) public func cos<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Cosine.self) : x.applyingToTensor(Cosine.self)
}
/// The elementwise tangent.
@inlinable @inline(__always) public func tan<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Tangent.self) : x.applyingToTensor(Tangent.self)
}
/// The elementwise hyperbolic tangent.
@inlinable @inline(__always) public func tanh<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(HyperbolicTangent.self) : x.applyingToTensor(HyperbolicTangent.self)
}
/// The elementwise logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).
@inlinable @inline(__always) public func sigmoid<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Sigmoid.self) : x.applyingToTensor(Sigmoid.self)
}
/// The elementwise error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt (the normal distribution's
/// Φ(x) = (1 + erf(x/√2)) / 2, as in the exact GELU).
@inlinable @inline(__always) public func erf<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(ErrorFunction.self) : x.applyingToTensor(ErrorFunction.self)
}
/// The elementwise rectified linear unit max(x, 0).
@inlinable @inline(__always) public func relu<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(RectifiedLinear.self) : x.applyingToTensor(RectifiedLinear.self)
}
/// The elementwise absolute value.
@inlinable @inline(__always) public func abs<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(AbsoluteValue.self) : x.applyingToTensor(AbsoluteValue.self)
}
