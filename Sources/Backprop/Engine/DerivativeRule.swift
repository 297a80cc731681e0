/// How a recorded tensor primitive differentiates: its vector-Jacobian product (reverse mode) and its
/// Jacobian-vector product (forward mode), written next to the primitive's forward definition.
///
/// Both closures are written with tensor operations, so when a sweep runs with recording on (a transform
/// nested inside another, or `backward(createGraph: true)`) the derivative is itself recorded and can be
/// differentiated again, to any order. When nothing needs the derivative's own derivative, sweeps run the
/// same closures with recording off, and a closure may then take a fused kernel path (`isRecording` tells
/// which); both paths must compute the same numbers.
///
/// `saved` holds the values the primitive chose to keep when it was recorded (typically its inputs and its
/// output), attached to their nodes when the sweep records.
@usableFromInline
struct DerivativeRule<Scalar: TensorScalar> {
    /// The output's cotangent → one cotangent per input, each with that input's shape (nil where nothing
    /// flows, for example to an input that is not tracked).
    var vjp: (_ cotangent: Tensor<Scalar>, _ saved: [Tensor<Scalar>]) -> [Tensor<Scalar>?]
    /// One tangent per input (nil for a zero tangent) → the output's tangent (nil when it is zero).
    var jvp: (_ tangents: [Tensor<Scalar>?], _ saved: [Tensor<Scalar>]) -> Tensor<Scalar>?
    /// The VJP of a batch of cotangents stacked along a new leading axis (`[k] + output shape` →
    /// `[k] + input shape` each), for the batched sweeps that compute many rows of a Jacobian at once.
    /// Nil: the sweep applies `vjp` to each cotangent of the batch in turn.
    var batchedVJP: ((_ cotangents: Tensor<Scalar>, _ saved: [Tensor<Scalar>]) -> [Tensor<Scalar>?])? = nil
    /// The JVP of a batch of tangents stacked along a new leading axis. Nil: `jvp` on each in turn.
    var batchedJVP: ((_ tangents: [Tensor<Scalar>?], _ saved: [Tensor<Scalar>]) -> Tensor<Scalar>?)? = nil

    /// The rule of a primitive whose output is its only input (the nodes by which a nested transform's
    /// inputs join the graph of the transform around it).
    static var identity: DerivativeRule {
        DerivativeRule(
            vjp: { g, _ in [g] }, jvp: { t, _ in t[0] }, batchedVJP: { g, _ in [g] }, batchedJVP: { t, _ in t[0] })
    }
}

/// The scalar primitives recorded as compact scalar records (rank-0 inputs and output). The code lets a
/// differentiable sweep find the primitive's rule again from the record.
@usableFromInline
enum ScalarPrimitiveCode: Int32 {
    case negate, squareRoot, exponential, logarithm, sine, cosine, tangent, hyperbolicTangent, sigmoid
    case rectifiedLinear, absoluteValue, errorFunction
    case add = 32, subtract, multiply, divide, power, maximum, minimum

    /// The unary primitive with this code, if it is one.
    var unary: (any UnaryPrimitive.Type)? {
        switch self {
        case .negate: Negation.self
        case .squareRoot: SquareRoot.self
        case .exponential: Exponential.self
        case .logarithm: Logarithm.self
        case .sine: Sine.self
        case .cosine: Cosine.self
        case .tangent: Tangent.self
        case .hyperbolicTangent: HyperbolicTangent.self
        case .sigmoid: Sigmoid.self
        case .rectifiedLinear: RectifiedLinear.self
        case .absoluteValue: AbsoluteValue.self
        case .errorFunction: ErrorFunction.self
        default: nil
        }
    }

    /// The binary primitive with this code, if it is one.
    var binary: (any BinaryPrimitive.Type)? {
        switch self {
        case .add: Addition.self
        case .subtract: Subtraction.self
        case .multiply: Multiplication.self
        case .divide: Division.self
        case .power: Power.self
        case .maximum: Maximum.self
        case .minimum: Minimum.self
        default: nil
        }
    }
}

extension ScalarPrimitiveCode {
    /// The primitive's name, as tensor records of it are named.
    var name: String { unary?.name ?? binary!.name }

    /// The primitive's value at (a, b) (b is ignored by unary primitives), recomputed by a differentiable
    /// sweep to stand for the record's output.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func value<S: TensorScalar>(_ a: S, _ b: S) -> S {
        switch self {
        case .negate: Negation.value(a)
        case .squareRoot: SquareRoot.value(a)
        case .exponential: Exponential.value(a)
        case .logarithm: Logarithm.value(a)
        case .sine: Sine.value(a)
        case .cosine: Cosine.value(a)
        case .tangent: Tangent.value(a)
        case .hyperbolicTangent: HyperbolicTangent.value(a)
        case .sigmoid: Sigmoid.value(a)
        case .rectifiedLinear: RectifiedLinear.value(a)
        case .absoluteValue: AbsoluteValue.value(a)
        case .errorFunction: ErrorFunction.value(a)
        case .add: Addition.value(a, b)
        case .subtract: Subtraction.value(a, b)
        case .multiply: Multiplication.value(a, b)
        case .divide: Division.value(a, b)
        case .power: Power.value(a, b)
        case .maximum: Maximum.value(a, b)
        case .minimum: Minimum.value(a, b)
        }
    }

    /// The local partial derivatives as tensors built from tracked operations (so that they can be
    /// differentiated again): ∂y/∂a and, for a binary primitive, ∂y/∂b. A switch over the concrete
    /// primitives, so that each rule is specialised rather than called through an existential.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func partials<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        let none = Tensor<S>(0)
        switch self {
        case .negate: return (Negation.derivative(at: a, value: y), none)
        case .squareRoot: return (SquareRoot.derivative(at: a, value: y), none)
        case .exponential: return (Exponential.derivative(at: a, value: y), none)
        case .logarithm: return (Logarithm.derivative(at: a, value: y), none)
        case .sine: return (Sine.derivative(at: a, value: y), none)
        case .cosine: return (Cosine.derivative(at: a, value: y), none)
        case .tangent: return (Tangent.derivative(at: a, value: y), none)
        case .hyperbolicTangent: return (HyperbolicTangent.derivative(at: a, value: y), none)
        case .sigmoid: return (Sigmoid.derivative(at: a, value: y), none)
        case .rectifiedLinear: return (RectifiedLinear.derivative(at: a, value: y), none)
        case .absoluteValue: return (AbsoluteValue.derivative(at: a, value: y), none)
        case .errorFunction: return (ErrorFunction.derivative(at: a, value: y), none)
        case .add: return Addition.partials(at: a, b, value: y)
        case .subtract: return Subtraction.partials(at: a, b, value: y)
        case .multiply: return Multiplication.partials(at: a, b, value: y)
        case .divide: return Division.partials(at: a, b, value: y)
        case .power: return Power.partials(at: a, b, value: y)
        case .maximum: return Maximum.partials(at: a, b, value: y)
        case .minimum: return Minimum.partials(at: a, b, value: y)
        }
    }
}
