/// The elementwise primitives: one row per primitive, mapping its code to the type that states its value and
/// derivative (`UnaryPrimitive`, `BinaryPrimitive`).
///
/// Everything the engine does with an elementwise primitive by its code goes through `visit(_:)` (its name,
/// its scalar records' values and partials, the tensor path specialised for each primitive, the public
/// `ElementwisePrimitive` the teaching module reads), and every switch over the codes is exhaustive, so a new
/// primitive is its maths, one case here with its row in `visit(_:)`, and a row in the derivative tests'
/// primitive table; the compiler refuses a code without its row.
@usableFromInline
enum ScalarPrimitiveCode: Int32, CaseIterable, Sendable {
    case negate, squareRoot, exponential, logarithm, sine, cosine, tangent, hyperbolicTangent, sigmoid
    case rectifiedLinear, absoluteValue, errorFunction
    case add = 32, subtract, multiply, divide, power, maximum, minimum

    /// Calls `visitor` with the primitive's type: the table.
    func visit<V: ElementwisePrimitiveVisitor>(_ visitor: V) -> V.Result {
        switch self {
        case .negate: visitor.visitUnary(Negation.self)
        case .squareRoot: visitor.visitUnary(SquareRoot.self)
        case .exponential: visitor.visitUnary(Exponential.self)
        case .logarithm: visitor.visitUnary(Logarithm.self)
        case .sine: visitor.visitUnary(Sine.self)
        case .cosine: visitor.visitUnary(Cosine.self)
        case .tangent: visitor.visitUnary(Tangent.self)
        case .hyperbolicTangent: visitor.visitUnary(HyperbolicTangent.self)
        case .sigmoid: visitor.visitUnary(Sigmoid.self)
        case .rectifiedLinear: visitor.visitUnary(RectifiedLinear.self)
        case .absoluteValue: visitor.visitUnary(AbsoluteValue.self)
        case .errorFunction: visitor.visitUnary(ErrorFunction.self)
        case .add: visitor.visitBinary(Addition.self)
        case .subtract: visitor.visitBinary(Subtraction.self)
        case .multiply: visitor.visitBinary(Multiplication.self)
        case .divide: visitor.visitBinary(Division.self)
        case .power: visitor.visitBinary(Power.self)
        case .maximum: visitor.visitBinary(Maximum.self)
        case .minimum: visitor.visitBinary(Minimum.self)
        }
    }
}

/// What is done with an elementwise primitive once its type is known: one generic method per arity, so that
/// each row of the table calls it with a concrete type and the optimiser specialises it there.
@usableFromInline
protocol ElementwisePrimitiveVisitor {
    /// The visit's result.
    associatedtype Result
    /// Visits a primitive of one argument.
    func visitUnary<P: UnaryPrimitive>(_ primitive: P.Type) -> Result
    /// Visits a primitive of two arguments.
    func visitBinary<P: BinaryPrimitive>(_ primitive: P.Type) -> Result
}

/// The name of a primitive.
private struct NameVisitor: ElementwisePrimitiveVisitor {
    func visitUnary<P: UnaryPrimitive>(_: P.Type) -> String { P.name }
    func visitBinary<P: BinaryPrimitive>(_: P.Type) -> String { P.name }
}

/// The number of arguments of a primitive.
private struct ArityVisitor: ElementwisePrimitiveVisitor {
    func visitUnary<P: UnaryPrimitive>(_: P.Type) -> Int { 1 }
    func visitBinary<P: BinaryPrimitive>(_: P.Type) -> Int { 2 }
}

/// A primitive's value at (a, b) (b ignored by a unary one).
private struct ValueVisitor<S: TensorScalar>: ElementwisePrimitiveVisitor {
    let a: S, b: S
    func visitUnary<P: UnaryPrimitive>(_: P.Type) -> S { P.value(a) }
    func visitBinary<P: BinaryPrimitive>(_: P.Type) -> S { P.value(a, b) }
}

/// A primitive's local partials in the algebra `A` (the second is zero for a unary one).
private struct PartialsVisitor<A: ElementwiseAlgebra>: ElementwisePrimitiveVisitor {
    let a: A, b: A, y: A
    func visitUnary<P: UnaryPrimitive>(_: P.Type) -> (A, A) { (P.derivative(a, y), .zero) }
    func visitBinary<P: BinaryPrimitive>(_: P.Type) -> (A, A) { P.partials(a, b, y) }
}

extension ScalarPrimitiveCode {
    /// The primitive's name, as tensor records of it are named.
    var name: String { visit(NameVisitor()) }

    /// The number of the primitive's arguments.
    var arity: Int { visit(ArityVisitor()) }

    /// The primitive's value at (a, b) (b is ignored by unary primitives), recomputed by a differentiable
    /// sweep to stand for the record's output.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func value<S: TensorScalar>(_ a: S, _ b: S) -> S { visit(ValueVisitor(a: a, b: b)) }

    /// The local partial derivatives as tensors built from tracked operations (so that they can be
    /// differentiated again): ∂y/∂a and, for a binary primitive, ∂y/∂b.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func partials<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        let (da, db) = visit(PartialsVisitor(a: TensorExpression(a), b: TensorExpression(b), y: TensorExpression(y)))
        return (da.tensor, db.tensor)
    }

    /// The local partial derivatives at numbers.
    func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) {
        let (da, db) = visit(PartialsVisitor(a: Number(a), b: Number(b), y: Number(y)))
        return (da.value, db.value)
    }
}
