/// Binary cross-entropy of logits against 0/1 labels, averaged: lecture 000's logistic-regression loss
/// −[y log σ(z) + (1 − y) log(1 − σ(z))], computed stably as max(z, 0) − z·y + log(1 + e^(−|z|)),
/// which never takes the logarithm of 0 however confident the logit.
///
/// Gradient: (σ(z) − y) / n with respect to the logits.
///
/// - Parameters:
///   - logits: the scores z (any shape).
///   - labels: the targets, 0 or 1 (probabilities in between are accepted), the same shape as `logits`.
public func binaryCrossEntropy<Scalar>(logits: Tensor<Scalar>, labels: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
        logits.shape == labels.shape,
        "binaryCrossEntropy(logits:labels:): shapes \(logits.shape) and \(labels.shape) differ")
    return (relu(logits) - logits * labels + log(1 + exp(-abs(logits)))).mean()
}
