/// The L2 penalty λ/2 · Σ‖θ‖² over the given parameters (conventionally the weights, not the biases).
///
/// Gradient: λ·θ for each parameter. Add it to a loss to regularise; for the decoupled form applied
/// by the optimizer instead, see `AdamW` and `SGD`'s weight decay.
///
/// - Parameters:
///   - parameters: the tensors to penalise.
///   - strength: λ.
public func l2Penalty<Scalar>(_ parameters: [Tensor<Scalar>], strength: Scalar) -> Tensor<Scalar> {
    var total = Tensor<Scalar>(0)
    for parameter in parameters { total = total + (parameter * parameter).sum() }
    return (strength / 2) * total
}
