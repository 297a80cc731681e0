/// How a recorded tensor primitive differentiates: its vector-Jacobian product (reverse mode) and its
/// Jacobian-vector product (forward mode), written next to the primitive's forward definition.
///
/// Both are written with tensor operations, so when a sweep runs with recording on (a transform nested inside
/// another, or `backward(createGraph: true)`) the derivative is itself recorded and can be differentiated
/// again, to any order. When nothing needs the derivative's own derivative, sweeps run the same rules with
/// recording off, and a rule may then take a fused kernel path (`isRecording` tells which); both paths must
/// compute the same numbers.
///
/// `saved` holds the values the primitive chose to keep when it was recorded (typically its inputs and its
/// output), attached to their nodes when the sweep records.
///
/// Most primitives give their rules as closures. The small primitives that every step of an eager program
/// records many times (elementwise functions, slices, reshapes) give instead a plain value naming the rule
/// that their own file defines (`ElementwiseUnaryRule`, `ElementwiseBinaryRule`, `SliceRule`,
/// `ReshapeRule`): recording one allocates no closure context, and the first-order sweep can recognise a
/// slice and add its cotangent into the sub-range of the input's gradient instead of padding it with zeros.
@usableFromInline
struct DerivativeRule<Scalar: TensorScalar> {
    /// Where the rule is stated.
    enum Form {
        /// Closures written next to the primitive.
        case closures(
            vjp: (_ cotangent: Tensor<Scalar>, _ saved: [Tensor<Scalar>]) -> [Tensor<Scalar>?],
            jvp: (_ tangents: [Tensor<Scalar>?], _ saved: [Tensor<Scalar>]) -> Tensor<Scalar>?,
            batchedVJP: ((_ cotangents: Tensor<Scalar>, _ saved: [Tensor<Scalar>]) -> [Tensor<Scalar>?])?,
            batchedJVP: ((_ tangents: [Tensor<Scalar>?], _ saved: [Tensor<Scalar>]) -> Tensor<Scalar>?)?)
        /// An elementwise function of one argument (`Primitives/UnaryPrimitive.swift`).
        case unary(ElementwiseUnaryRule)
        /// An elementwise function of two arguments, with broadcasting (`Primitives/BinaryPrimitive.swift`).
        case binary(ElementwiseBinaryRule)
        /// A slice along an axis (`Primitives/Indexing.swift`).
        case slice(SliceRule)
        /// A reshape (`Primitives/ShapeOperations.swift`).
        case reshape(ReshapeRule)
    }

    /// The rule.
    var form: Form

    init(_ form: Form) { self.form = form }

    /// A rule given by closures.
    ///
    /// - Parameters:
    ///   - vjp: the output's cotangent → one cotangent per input, each with that input's shape (nil where
    ///     nothing flows, for example to an input that is not tracked).
    ///   - jvp: one tangent per input (nil for a zero tangent) → the output's tangent (nil when it is zero).
    ///   - batchedVJP: the VJP of a batch of cotangents stacked along a new leading axis (`[k] + output
    ///     shape` → `[k] + input shape` each), for the batched sweeps that compute many rows of a Jacobian at
    ///     once. Nil: the sweep applies `vjp` to each cotangent of the batch in turn.
    ///   - batchedJVP: the JVP of a batch of tangents stacked along a new leading axis. Nil: `jvp` on each.
    init(
        vjp: @escaping (_ cotangent: Tensor<Scalar>, _ saved: [Tensor<Scalar>]) -> [Tensor<Scalar>?],
        jvp: @escaping (_ tangents: [Tensor<Scalar>?], _ saved: [Tensor<Scalar>]) -> Tensor<Scalar>?,
        batchedVJP: ((_ cotangents: Tensor<Scalar>, _ saved: [Tensor<Scalar>]) -> [Tensor<Scalar>?])? = nil,
        batchedJVP: ((_ tangents: [Tensor<Scalar>?], _ saved: [Tensor<Scalar>]) -> Tensor<Scalar>?)? = nil
    ) {
        form = .closures(vjp: vjp, jvp: jvp, batchedVJP: batchedVJP, batchedJVP: batchedJVP)
    }

    /// The output's cotangent → one cotangent per input.
    func vjp(_ cotangent: Tensor<Scalar>, _ saved: [Tensor<Scalar>]) -> [Tensor<Scalar>?] {
        switch form {
        case .closures(let vjp, _, _, _): vjp(cotangent, saved)
        case .unary(let rule): rule.vjp(cotangent, saved)
        case .binary(let rule): rule.vjp(cotangent, saved)
        case .slice(let rule): [rule.vjp(cotangent)]
        case .reshape(let rule): [rule.vjp(cotangent)]
        }
    }

    /// One tangent per input → the output's tangent.
    func jvp(_ tangents: [Tensor<Scalar>?], _ saved: [Tensor<Scalar>]) -> Tensor<Scalar>? {
        switch form {
        case .closures(_, let jvp, _, _): jvp(tangents, saved)
        case .unary(let rule): rule.jvp(tangents, saved)
        case .binary(let rule): rule.jvp(tangents, saved)
        case .slice(let rule): tangents[0].map(rule.jvp)
        case .reshape(let rule): tangents[0].map(rule.jvp)
        }
    }

    /// The VJP of a batch of cotangents, when the rule has one.
    var batchedVJP: ((_ cotangents: Tensor<Scalar>, _ saved: [Tensor<Scalar>]) -> [Tensor<Scalar>?])? {
        switch form {
        case .closures(_, _, let batched, _): batched
        case .unary(let rule): { g, saved in rule.batchedVJP(g, saved) }
        case .binary(let rule): { g, saved in rule.batchedVJP(g, saved) }
        case .slice: nil
        case .reshape(let rule): { g, _ in [rule.batchedVJP(g)] }
        }
    }

    /// The JVP of a batch of tangents, when the rule has one.
    var batchedJVP: ((_ tangents: [Tensor<Scalar>?], _ saved: [Tensor<Scalar>]) -> Tensor<Scalar>?)? {
        switch form {
        case .closures(_, _, _, let batched): batched
        case .unary(let rule): { t, saved in rule.batchedJVP(t, saved) }
        case .binary(let rule): { t, saved in rule.batchedJVP(t, saved) }
        case .slice: nil
        case .reshape(let rule): { t, _ in t[0].map(rule.batchedJVP) }
        }
    }

    /// The rule of a primitive whose output is its only input (the nodes by which a nested transform's
    /// inputs join the graph of the transform around it).
    static var identity: DerivativeRule {
        DerivativeRule(
            vjp: { g, _ in [g] }, jvp: { t, _ in t[0] }, batchedVJP: { g, _ in [g] }, batchedJVP: { t, _ in t[0] })
    }
}
