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
