// Softmax cross-entropy of a batch of logits against integer class labels, fused into one primitive:
// the forward pass keeps the softmax it computes anyway, and the pullback is (softmax − one-hot) / n.

extension Tensor {
    /// The mean over rows of −log softmax(row)[label], for logits of shape `[n, classes]` and one label
    /// in `0..<classes` per row, computed stably (each row's maximum is subtracted before `exp`).
    ///
    /// Pullback: ∂L/∂logits = g · (softmax(logits) − onehot(labels)) / n.
    ///
    /// - Precondition: the tensor has rank 2, `labels.count` equals the number of rows and every label
    ///   is a valid class index.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func softmaxCrossEntropy(labels: [Int]) -> Tensor {
        precondition(rank == 2, "softmaxCrossEntropy(labels:): needs logits of shape [n, classes], got \(shape)")
        let n = shape[0], classes = shape[1]
        precondition(labels.count == n, "softmaxCrossEntropy(labels:): \(labels.count) labels for \(n) rows")
        precondition(
            labels.allSatisfy { $0 >= 0 && $0 < classes },
            "softmaxCrossEntropy(labels:): labels must lie in 0..<\(classes)")
        var probabilities = [Scalar](repeating: 0, count: n * classes)
        var total: Scalar = 0
        withScalarBuffer { p in
            probabilities.withUnsafeMutableBufferPointer { q in
                for row in 0..<n {
                    let base = row * classes
                    var m = -Scalar.infinity
                    for k in 0..<classes { m = Swift.max(m, p[base + k]) }
                    if !m.isFinite { m = 0 }
                    var s: Scalar = 0
                    for k in 0..<classes {
                        let e = Scalar.exp(p[base + k] - m)
                        q[base + k] = e
                        s += e
                    }
                    let inverse = 1 / s
                    for k in 0..<classes { q[base + k] *= inverse }
                    total += Scalar.log(s) + m - p[base + labels[row]]
                }
            }
        }
        let count = Scalar(Swift.max(n, 1))
        // softmax − onehot, the derivative of the summed loss with respect to the logits.
        var residual = probabilities
        for row in 0..<n { residual[row * classes + labels[row]] -= 1 }
        let fixedResidual = Tensor(shape: [n, classes], buffer: residual)
        // Recorded rules rebuild the residual from the (tracked) logits, so it can be differentiated again.
        func differentiableResidual(_ logits: Tensor) -> Tensor {
            var onehot = [Scalar](repeating: 0, count: n * classes)
            for row in 0..<n { onehot[row * classes + labels[row]] = 1 }
            return logits.softmax(alongAxis: 1) - Tensor(shape: [n, classes], buffer: onehot)
        }
        var loss = Tensor(total / count)
        if isTraced { loss = loss.traced(.opaque("softmaxCrossEntropy"), [self]) { $0[0].softmaxCrossEntropy(labels: labels) } }
        return loss.recorded(
            "softmaxCrossEntropy", inputs: [self], saving: [self],
            vjp: { g, saved in
                if !fusedRulesAllowed() { return [differentiableResidual(saved[0]) * (g / count)] }
                let scale = g.scalar / count
                var gradient = residual
                gradient.withUnsafeMutableBufferPointer { d in
                    for i in 0..<d.count { d[i] *= scale }
                }
                return [Tensor(shape: [n, classes], buffer: gradient)]
            },
            jvp: { t, saved in
                guard let t = t[0] else { return nil }
                let r = fusedRulesAllowed() ? fixedResidual : differentiableResidual(saved[0])
                return (r * t).sum() / count
            })
    }
}
