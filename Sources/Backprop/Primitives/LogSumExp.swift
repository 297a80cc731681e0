// log Σ exp(x) along axes as one primitive, computed stably (the maximum is subtracted before exp).

extension Tensor {
    /// log Σ exp(x) along `axes` (negative axes count from the end), computed stably: the maximum m along
    /// the axes is subtracted first, y = m + log Σ exp(x − m), so large inputs do not overflow and rows of
    /// −∞ give −∞. Reduced axes are kept with size 1 when `keepingDimensions` is true.
    ///
    /// Derivatives: ∂y/∂x = exp(x − y), the softmax along the axes; pullback g·exp(x − y), tangent
    /// Σ exp(x − y)·ẋ. Both are written with tensor operations, so every order works.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func logSumExp(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, operation: "logSumExp(alongAxes:)")
        let kept = keptShape(reducing: axes)
        var value: Tensor = withoutRecording {
            let x = detached().untraced()
            let maximum = x.max(alongAxes: axes, keepingDimensions: true)
            // A row of −∞ (or a row holding +∞) keeps its maximum out of the exponent: shift by 0 there.
            let shift = Tensor(shape: kept, scalars: maximum.scalars.map { $0.isFinite ? $0 : 0 })
            return log(exp(x - shift).sum(alongAxes: axes, keepingDimensions: true)) + shift
        }
        if isTraced { value = value.traced(.opaque("logSumExp"), [self]) { $0[0].logSumExp(alongAxes: axes, keepingDimensions: true) } }
        let result = value.recorded(
            "logSumExp", inputs: [self], saving: [self], savingOutput: true,
            vjp: { g, saved in [g * exp(saved[0] - saved[1])] },
            jvp: { t, saved in t[0].map { (exp(saved[0] - saved[1]) * $0).sum(alongAxes: axes, keepingDimensions: true) } },
            batchedVJP: { g, saved in [g * exp(saved[0] - saved[1])] },
            batchedJVP: { t, saved in
                t[0].map { (exp(saved[0] - saved[1]) * $0).sum(alongAxes: axes.map { $0 + 1 }, keepingDimensions: true) }
            })
        return keepingDimensions ? result : result.reshaped(to: kept.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }

    /// log Σ exp(x) over every element, as a rank-0 tensor: like `sum()`, `mean()` and `max()`, the form
    /// without axes reduces over all of them (NumPy's and JAX's `logsumexp(x)`).
    public func logSumExp() -> Tensor {
        shape.isEmpty ? self : logSumExp(alongAxes: Array(0..<rank))
    }

    /// log Σ exp(x) along the given axes (see `logSumExp(alongAxes:keepingDimensions:)`).
    public func logSumExp(alongAxes axes: Int..., keepingDimensions: Bool = false) -> Tensor {
        logSumExp(alongAxes: axes, keepingDimensions: keepingDimensions)
    }
}
