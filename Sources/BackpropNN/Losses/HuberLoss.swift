/// The mean Huber loss of `predicted` against `expected` (PyTorch's `nn.HuberLoss(delta=δ)`): ½d² where
/// |d| ≤ δ and δ(|d| − ½δ) beyond, for d = predicted − expected; quadratic near the target, linear far from
/// it, so outliers pull less than under the squared error.
///
/// Written as ½q² + δ(|d| − q) with q = min(|d|, δ), so its gradient is d inside the band and δ·sign(d)
/// outside, divided by the element count.
///
/// - Precondition: `delta > 0`; the shapes broadcast together (normally they are equal).
public func huberLoss<Scalar>(predicted: Tensor<Scalar>, expected: Tensor<Scalar>, delta: Double = 1) -> Tensor<Scalar> {
    precondition(delta > 0, "huberLoss: delta must be positive, got \(delta)")
    let distance = abs(predicted - expected)
    let inside = min(distance, Tensor(Scalar(delta)))
    return (inside * inside * Scalar(0.5) + (distance - inside) * Scalar(delta)).mean()
}
