// Softmax and log-softmax along an axis, numerically stable (the row maximum is subtracted first).

extension Tensor {
    /// Views the shape as (outer, n, inner) around `axis`.
    func splitAround(axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Softmax values along an axis (log-softmax values with `log`), stably: each line along the axis has its
    /// maximum subtracted, takes one vectorised exp per element, and is divided by its sum (or has the sum's
    /// log subtracted). A line along an axis that is not the last is gathered into a buffer first; the lines
    /// split across the cores when there are many values.
    private func softmaxValues(axis: Int, log: Bool) -> [Scalar] {
        let (outer, n, inner) = splitAround(axis: axis)
        let count = scalarCount, lines = outer * inner
        return [Scalar](unsafeUninitializedCapacity: count) { result, initialized in
            withScalarBuffer { p in
                guard count > 0 else { return }
                let pointers = LoopPointers(inputs: [p.baseAddress!], output: result.baseAddress!)
                let parts = count >= elementwiseParallelThreshold ? Swift.min(parallelThreadCount, lines) : 1
                concurrentPerformKeepingKernelPath(iterations: parts) { part in
                    let range = (lines * part / parts)..<(lines * (part + 1) / parts)
                    Self.softmaxLines(range, n: n, inner: inner, log: log, from: pointers.inputs[0], into: pointers.output)
                }
            }
            initialized = count
        }
    }

    /// `softmaxValues` for the lines in `range` (line o·inner + j starts at o·n·inner + j, stride inner).
    private static func softmaxLines(
        _ range: Range<Int>, n: Int, inner: Int, log: Bool, from input: UnsafePointer<Scalar>,
        into output: UnsafeMutablePointer<Scalar>
    ) {
        let gathered = inner == 1 ? nil : UnsafeMutablePointer<Scalar>.allocate(capacity: n)
        let exponentials = log ? UnsafeMutablePointer<Scalar>.allocate(capacity: n) : nil
        defer {
            gathered?.deallocate()
            exponentials?.deallocate()
        }
        for line in range {
            let base = (line / inner) * n * inner + line % inner
            let x = input + base
            let y = gathered ?? output + base
            var m = -Scalar.infinity
            for k in 0..<n { m = Swift.max(m, x[k * inner]) }
            if m == -.infinity { m = 0 }
            for k in 0..<n { y[k] = x[k * inner] - m }
            let e = exponentials ?? y
            Scalar._exp(y, e, count: n)
            var s: Scalar = 0
            for k in 0..<n { s += e[k] }
            if log {
                let logSum = Scalar.log(s)
                for k in 0..<n { y[k] -= logSum }
            } else {
                let scale = 1 / s
                for k in 0..<n { y[k] *= scale }
            }
            if let gathered { for k in 0..<n { output[base + k * inner] = gathered[k] } }
        }
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
        var y = Tensor(shape: shape, buffer: softmaxValues(axis: a, log: false))
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
        var y = Tensor(shape: shape, buffer: softmaxValues(axis: a, log: true))
        if isTraced { y = y.traced(.opaque("logSoftmax"), [self]) { $0[0].logSoftmax(alongAxis: a) } }
        return y.recorded(
            "logSoftmax", inputs: [self], savingOutput: true,
            vjp: { g, saved in [g - exp(saved[0]) * g.sum(alongAxes: [a], keepingDimensions: true)] },
            jvp: { t, saved in t[0].map { $0 - (exp(saved[0]) * $0).sum(alongAxes: [a], keepingDimensions: true) } },
            batchedVJP: { g, saved in [g - exp(saved[0]) * g.sum(alongAxes: [a + 1], keepingDimensions: true)] },
            batchedJVP: { t, saved in t[0].map { $0 - (exp(saved[0]) * $0).sum(alongAxes: [a + 1], keepingDimensions: true) } })
    }
}
