/// The global L2 norm of a list of gradients: √(Σ over all tensors and elements of g²).
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
public func globalNorm<Scalar>(_ gradients: [Tensor<Scalar>]) -> Double {
    var total = 0.0
    for g in gradients {
        g.withUnsafeScalars { values in for v in values { total += Double(v) * Double(v) } }
    }
    return total.squareRoot()
}

/// Scales `gradients` so that their global norm is at most `maxNorm` (PyTorch's
/// `clip_grad_norm_`), and returns the norm before clipping.
///
/// - Precondition: `maxNorm > 0`.
@discardableResult
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
public func clipByGlobalNorm<Scalar>(_ gradients: inout [Tensor<Scalar>], maxNorm: Double) -> Double {
    precondition(maxNorm > 0, "clipByGlobalNorm: maxNorm must be positive, got \(maxNorm)")
    let norm = globalNorm(gradients)
    guard norm > maxNorm, norm.isFinite else { return norm }
    let scale = Scalar(maxNorm / (norm + 1e-6))
    for index in gradients.indices {
        gradients[index].withUnsafeMutableScalars { g in for i in 0..<g.count { g[i] *= scale } }
    }
    return norm
}
