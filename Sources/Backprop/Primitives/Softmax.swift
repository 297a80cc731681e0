// Softmax and log-softmax along an axis, numerically stable (the row maximum is subtracted first).

extension Tensor {
    /// Views the shape as (outer, n, inner) around `axis`.
    func splitAround(axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Computes log-softmax values along an axis: x − max − log Σ exp(x − max).
    private func logSoftmaxValues(axis: Int) -> [Scalar] {
        let (outer, n, inner) = splitAround(axis: axis)
        var out = [Scalar](repeating: 0, count: scalarCount)
        withScalarBuffer { p in
            for o in 0..<outer {
                for j in 0..<inner {
                    let base = o * n * inner + j
                    var m = -Scalar.infinity
                    for k in 0..<n { m = Swift.max(m, p[base + k * inner]) }
                    if m == -.infinity { m = 0 }
                    var s: Scalar = 0
                    for k in 0..<n { s += Scalar.exp(p[base + k * inner] - m) }
                    let logSum = Scalar.log(s) + m
                    for k in 0..<n { out[base + k * inner] = p[base + k * inner] - logSum }
                }
            }
        }
        return out
    }

    /// Resolves a possibly negative axis for a softmax.
    private func softmaxAxis(_ axis: Int, _ operation: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(rank > 0 && a >= 0 && a < rank, "\(operation): axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// Softmax along `axis`: exp(xᵢ) / Σⱼ exp(xⱼ), computed stably.
    ///
    /// Pullback: ∂L/∂x = y ⊙ (g − Σ g ⊙ y); tangent: ẏ = y ⊙ (ẋ − Σ ẋ ⊙ y).
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let a = softmaxAxis(axis, "softmax(alongAxis:)")
        var y = Tensor(shape: shape, buffer: logSoftmaxValues(axis: a).map { Scalar.exp($0) })
        if isTraced { y = y.traced(.opaque("softmax"), [self]) { $0[0].softmax(alongAxis: a) } }
        // The Jacobian y ⊙ (I − 1 yᵀ) along the axis is symmetric: VJP and JVP have one formula.
        func apply(_ v: Tensor, _ y: Tensor, axis: Int) -> Tensor {
            let vy = v * y
            return vy - y * vy.sum(alongAxes: [axis], keepingDimensions: true)
        }
        return y.recorded(
            "softmax", inputs: [self], savingOutput: true,
            vjp: { g, saved in [apply(g, saved[0], axis: a)] },
            jvp: { t, saved in t[0].map { apply($0, saved[0], axis: a) } },
            batchedVJP: { g, saved in [apply(g, saved[0], axis: a + 1)] },
            batchedJVP: { t, saved in t[0].map { apply($0, saved[0], axis: a + 1) } })
    }

    /// Log-softmax along `axis`: xᵢ − log Σⱼ exp(xⱼ), computed stably.
    ///
    /// Pullback: ∂L/∂x = g − softmax(x) ⊙ Σ g; tangent: ẏ = ẋ − Σ softmax(x) ⊙ ẋ.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let a = softmaxAxis(axis, "logSoftmax(alongAxis:)")
        var y = Tensor(shape: shape, buffer: logSoftmaxValues(axis: a))
        if isTraced { y = y.traced(.opaque("logSoftmax"), [self]) { $0[0].logSoftmax(alongAxis: a) } }
        return y.recorded(
            "logSoftmax", inputs: [self], savingOutput: true,
            vjp: { g, saved in [g - exp(saved[0]) * g.sum(alongAxes: [a], keepingDimensions: true)] },
            jvp: { t, saved in t[0].map { $0 - (exp(saved[0]) * $0).sum(alongAxes: [a], keepingDimensions: true) } },
            batchedVJP: { g, saved in [g - exp(saved[0]) * g.sum(alongAxes: [a + 1], keepingDimensions: true)] },
            batchedJVP: { t, saved in t[0].map { $0 - (exp(saved[0]) * $0).sum(alongAxes: [a + 1], keepingDimensions: true) } })
    }
}
