// The elementwise functions of one argument. Each primitive's value and derivative stand together.

@usableFromInline enum Negation: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .negate }
    @usableFromInline static var name: String { "negate" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { -x }
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { -.one }
}

@usableFromInline enum SquareRoot: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .squareRoot }
    @usableFromInline static var name: String { "sqrt" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { x.squareRoot() }
    // d√x/dx = 1 / (2√x)
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { .one / (.constant(2) * y) }
}

@usableFromInline enum Exponential: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .exponential }
    @usableFromInline static var name: String { "exp" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.exp(x) }
    // d eˣ/dx = eˣ
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { y }
    // Tensors: vecmath.c's kernel (within an ulp, 2-4x faster than the C library's exp one call at a time).
    @usableFromInline static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool {
        S._exp(x, y, count: count)
        return true
    }
}

@usableFromInline enum Logarithm: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .logarithm }
    @usableFromInline static var name: String { "log" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.log(x) }
    // d ln x/dx = 1/x
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { .one / x }
    // Tensors: vecmath.c's kernel (within an ulp).
    @usableFromInline static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool {
        S._log(x, y, count: count)
        return true
    }
}

@usableFromInline enum Sine: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .sine }
    @usableFromInline static var name: String { "sin" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.sin(x) }
    // d sin x/dx = cos x
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { .cos(x) }
    // Tensors: vecmath.c's kernel (within two ulp, typically half of one).
    @usableFromInline static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool {
        S._sin(x, y, count: count)
        return true
    }
}

@usableFromInline enum Cosine: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .cosine }
    @usableFromInline static var name: String { "cos" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.cos(x) }
    // d cos x/dx = −sin x
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { -.sin(x) }
    // Tensors: vecmath.c's kernel (within two ulp, typically half of one).
    @usableFromInline static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool {
        S._cos(x, y, count: count)
        return true
    }
}

@usableFromInline enum Tangent: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .tangent }
    @usableFromInline static var name: String { "tan" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.tan(x) }
    // d tan x/dx = 1 + tan² x
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { .one + y * y }
    // Tensors: vecmath.c's kernel (within two ulp, typically half of one).
    @usableFromInline static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool {
        S._tan(x, y, count: count)
        return true
    }
}

@usableFromInline enum HyperbolicTangent: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .hyperbolicTangent }
    @usableFromInline static var name: String { "tanh" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.tanh(x) }
    // d tanh x/dx = 1 − tanh² x
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { .one - y * y }
    // Tensors: vecmath.c's kernel (within 0.6 ulp for Double, where the C library's tanh is off by up to 2.1).
    @usableFromInline static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool {
        S._tanh(x, y, count: count)
        return true
    }
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
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { y * (.one - y) }
    // Tensors: vecmath.c's kernel (within two ulp of the exact value).
    @usableFromInline static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool {
        S._sigmoid(x, y, count: count)
        return true
    }
}

@usableFromInline enum ErrorFunction: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .errorFunction }
    @usableFromInline static var name: String { "erf" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { S.erf(x) }
    // d erf x/dx = 2/√π · e^(−x²)
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { .constant(1.1283791670955126) * .exp(-(x * x)) }
    // Tensors: vecmath.c's kernel (within two ulp).
    @usableFromInline static func valuesByKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) -> Bool {
        S._erf(x, y, count: count)
        return true
    }
}

@usableFromInline enum RectifiedLinear: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .rectifiedLinear }
    @usableFromInline static var name: String { "relu" }
    // NaN stays NaN (as PyTorch, and as the vectorised tensor kernel): !(x <= 0) is true for NaN.
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { !(x <= 0) ? x : 0 }
    // d relu/dx = 1 for x > 0, else 0 (0 at the kink, as PyTorch)
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { .isGreater(x, .zero) }
}

@usableFromInline enum AbsoluteValue: UnaryPrimitive {
    @inlinable static var code: ScalarPrimitiveCode { .absoluteValue }
    @usableFromInline static var name: String { "abs" }
    @inlinable static func value<S: TensorScalar>(_ x: S) -> S { Swift.abs(x) }
    // d|x|/dx = sign(x) (0 at 0)
    @inlinable static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A) -> A { .isGreater(x, .zero) - .isGreater(.zero, x) }
}

/// The elementwise square root.
@inlinable @inline(__always) public func sqrt<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(SquareRoot.self) : x.applyingToTensor(.squareRoot)
}
/// The elementwise exponential eˣ.
@inlinable @inline(__always) public func exp<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Exponential.self) : x.applyingToTensor(.exponential)
}
/// The elementwise natural logarithm.
@inlinable @inline(__always) public func log<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Logarithm.self) : x.applyingToTensor(.logarithm)
}
/// The elementwise sine.
@inlinable @inline(__always) public func sin<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Sine.self) : x.applyingToTensor(.sine)
}
/// The elementwise cosine.
@inlinable @inline(__always) public func cos<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Cosine.self) : x.applyingToTensor(.cosine)
}
/// The elementwise tangent.
@inlinable @inline(__always) public func tan<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Tangent.self) : x.applyingToTensor(.tangent)
}
/// The elementwise hyperbolic tangent.
@inlinable @inline(__always) public func tanh<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(HyperbolicTangent.self) : x.applyingToTensor(.hyperbolicTangent)
}
/// The elementwise logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).
@inlinable @inline(__always) public func sigmoid<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(Sigmoid.self) : x.applyingToTensor(.sigmoid)
}
/// The elementwise error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt (the normal distribution's
/// Φ(x) = (1 + erf(x/√2)) / 2, as in the exact GELU).
@inlinable @inline(__always) public func erf<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(ErrorFunction.self) : x.applyingToTensor(.errorFunction)
}
/// The elementwise rectified linear unit max(x, 0).
@inlinable @inline(__always) public func relu<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(RectifiedLinear.self) : x.applyingToTensor(.rectifiedLinear)
}
/// The elementwise absolute value.
@inlinable @inline(__always) public func abs<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.dimensions.isEmpty ? x.applyingToScalar(AbsoluteValue.self) : x.applyingToTensor(.absoluteValue)
}
