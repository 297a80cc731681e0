/// Softmax cross-entropy with integer class labels, averaged over the batch: the mean over rows of
/// −log softmax(logits)[label]. One fused, numerically stable primitive (see
/// `Tensor.softmaxCrossEntropy(labels:)`), whose gradient is (softmax − one-hot) / n.
///
/// - Parameters:
///   - logits: shape `[n, classes]`.
///   - labels: `n` class indices in `0..<classes`.
public func softmaxCrossEntropy<Scalar>(logits: Tensor<Scalar>, labels: [Int]) -> Tensor<Scalar> {
    logits.softmaxCrossEntropy(labels: labels)
}
