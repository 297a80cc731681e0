// Checkpointing (lecture 004's time-space trade-off): a segment whose intermediate values are not kept
// during the forward pass but recomputed when the backward pass reaches it.

/// Evaluates `segment` on `inputs` keeping only its inputs and its output for differentiation: its
/// intermediate values are recomputed, once, when a backward (or forward) sweep reaches it.
///
/// Checkpointing every k layers of an n-layer network keeps about n/k segment inputs plus one segment's
/// intermediates (k layers) alive instead of all n layers': with k ≈ √n, memory falls from O(n) to
/// O(√n) for the price of one more forward pass. The segment must receive every tensor it should
/// differentiate through (activations and parameters alike) in `inputs`; using a captured tracked tensor
/// instead stops with a message. Works under every transform, to any order.
///
/// ```swift
/// var h = x
/// for block in blocks {
///     h = checkpointed([h] + block.parameters) { t in block.apply(t[0], parameters: Array(t.dropFirst())) }
/// }
/// ```
public func checkpointed<Scalar>(
    _ inputs: [Tensor<Scalar>], _ segment: @escaping ([Tensor<Scalar>]) -> Tensor<Scalar>
) -> Tensor<Scalar> {
    guard inputs.contains(where: { $0.isTracked }), isRecording else { return segment(inputs) }
    let detachedInputs = inputs.map { $0.detached() }
    // Recording stays on: nothing is recorded unless the segment uses a tracked tensor it was not given.
    let out = withRecordingEnabled { segment(detachedInputs) }
    precondition(
        !out.isTracked,
        "checkpointed(_:_:): the segment uses a tracked tensor that is not among its inputs; pass it in `inputs`")
    let shapes = inputs.map(\.shape)
    return out.recorded(
        "checkpoint", inputs: inputs, saving: inputs,
        vjp: { g, saved in valueWithPullback(at: saved, of: segment).pullback(g) },
        jvp: { tangents, saved in
            let directions = zip(tangents, shapes).map { t, shape in t ?? Tensor.zeros(shape: shape) }
            return valueWithJVP(at: saved, along: directions, of: segment).jvp
        })
}

/// Evaluates `segment` on one tensor with checkpointing (see `checkpointed(_:_:)`).
public func checkpointed<Scalar>(
    _ x: Tensor<Scalar>, _ segment: @escaping (Tensor<Scalar>) -> Tensor<Scalar>
) -> Tensor<Scalar> {
    checkpointed([x]) { segment($0[0]) }
}
