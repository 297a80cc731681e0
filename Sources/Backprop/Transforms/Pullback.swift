// Reverse mode for functions of any output shape: the value and a pullback u ↦ uᵀJ (a vector-Jacobian
// product) that can be called many times on one recording.

/// The value of `f` at `x` and its pullback: the function mapping a cotangent `u` of the value's shape to
/// uᵀ·J, where J is the Jacobian of `f` at `x` (a tensor of `x`'s shape).
///
/// The recording of `f` is kept for as long as the pullback lives, so each call costs one reverse sweep.
/// Inside another transform the pullback's results are differentiable.
///
/// ```swift
/// let (y, pullback) = valueWithPullback(at: Tensor<Double>([1, 2])) { x in x * x }
/// pullback(Tensor([1, 0]))   // [2, 0]
/// ```
public func valueWithPullback<Scalar>(
    at x: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>) {
    let (value, pullback) = try valueWithPullback(at: [x]) { try f($0[0]) }
    return (value, { pullback($0)[0] })
}

/// The value of `f` at `(x, y)` and its pullback, giving one cotangent per argument.
public func valueWithPullback<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, of f: (Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>)) {
    let (value, pullback) = try valueWithPullback(at: [x, y]) { try f($0[0], $0[1]) }
    return (value, { u in let g = pullback(u); return (g[0], g[1]) })
}

/// The value of `f` at `(x, y, z)` and its pullback, giving one cotangent per argument.
public func valueWithPullback<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ z: Tensor<Scalar>,
    of f: (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>)) {
    let (value, pullback) = try valueWithPullback(at: [x, y, z]) { try f($0[0], $0[1], $0[2]) }
    return (value, { u in let g = pullback(u); return (g[0], g[1], g[2]) })
}

/// The value of `f` at an array of tensors and its pullback, giving one cotangent per tensor.
public func valueWithPullback<Scalar>(
    at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> [Tensor<Scalar>]) {
    let level = DifferentiationLevel(arguments: xs)
    let y: Tensor<Scalar>
    do {
        y = try level.evaluate(f)
    } catch {
        level.close()
        throw error
    }
    let shape = y.shape
    // The pullback owns the recording: a top-level tape is freed with the closure, not by `close()`.
    return (level.exported(y), { u in
        precondition(
            u.shape == shape,
            "valueWithPullback(at:of:): the cotangent has shape \(u.shape), the value has shape \(shape)")
        return level.pullback(of: y, seed: u)
    })
}

/// The vector-Jacobian product uᵀ·J of `f` at `x`.
public func vjp<Scalar>(
    at x: Tensor<Scalar>, along u: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> Tensor<Scalar> {
    try valueWithPullback(at: x, of: f).pullback(u)
}
