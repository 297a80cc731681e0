// A layer's computation as one recorded primitive: a fast forward pass and a hand-written first-order
// backward pass (one loop or one product where the composition would take many), with every derivative of
// higher order, and forward mode, taken from a reference written with tensor operations. The two must compute
// the same function; each layer's tests check that they do.

/// What a fused forward pass keeps for its backward pass (activations it would otherwise recompute).
final class FusedPrimitiveCache<Scalar: TensorScalar> {
    /// Saved values, as the forward pass lays them out.
    var values: [[Scalar]] = []
}

/// Applies `forward` to `inputs` as one recorded primitive named `name`.
///
/// - Parameters:
///   - forward: the value from the inputs' values; fills the cache when one is given (only when the result
///     will be differentiated).
///   - backward: the first-order pullback: inputs, output, cotangent and the cache → one cotangent per input.
///   - reference: the same function written with differentiable tensor operations, which gives derivatives of
///     higher order (a sweep that records) and forward mode.
func fusedPrimitive<Scalar>(
    named name: String, at inputs: [Tensor<Scalar>],
    forward: @escaping ([Tensor<Scalar>], FusedPrimitiveCache<Scalar>?) -> Tensor<Scalar>,
    backward: @escaping ([Tensor<Scalar>], Tensor<Scalar>, Tensor<Scalar>, FusedPrimitiveCache<Scalar>) -> [Tensor<Scalar>],
    reference: @escaping ([Tensor<Scalar>]) -> Tensor<Scalar>
) -> Tensor<Scalar> {
    guard isRecording, inputs.contains(where: { $0.isTracked }) else {
        return withoutRecording { forward(inputs.map { $0.detached() }, nil) }
    }
    let cache = FusedPrimitiveCache<Scalar>()
    return customPrimitive(
        named: name, at: inputs,
        value: { forward($0, cache) },
        vjp: { inputs, output, cotangent in
            // A sweep that records (a derivative to be differentiated again) goes through the reference.
            if isRecording { return valueWithPullback(at: inputs, of: reference).pullback(cotangent) }
            return withoutRecording { backward(inputs, output, cotangent, cache) }
        },
        jvp: { inputs, _, tangents in valueWithJVP(at: inputs, along: tangents, of: reference).jvp })
}
