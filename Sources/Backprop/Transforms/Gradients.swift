// The functional API (as Swift's differentiation and JAX): gradients of a function at a point.

/// Checks that a function's result can seed a backward pass.
private func requireScalarResult<Scalar>(_ y: Tensor<Scalar>, _ api: String) {
    precondition(y.scalarCount == 1, "\(api): the function must return a one-element tensor, got shape \(y.shape)")
}

/// Evaluates `f` on `inputs` in a new differentiation level, sweeps backward once, and returns the value
/// and the gradient with respect to each input. Nested inside another transform, the gradients are
/// tracked functions of that transform's inputs.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
func valueWithGradients<Scalar>(
    at inputs: [Tensor<Scalar>], api: String, of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradients: [Tensor<Scalar>]) {
    let level = DifferentiationLevel(arguments: inputs)
    defer { level.close() }
    let y = try level.evaluate(f)
    requireScalarResult(y, api)
    let gradients = level.pullback(of: y, seed: Tensor(repeating: 1, shape: y.shape))
    return (level.exported(y), gradients)
}

/// The value of `f` at `x` and its gradient ∂f/∂x, by one forward and one reverse pass.
///
/// `f` must return a one-element tensor.
public func valueWithGradient<Scalar>(
    at x: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradient: Tensor<Scalar>) {
    let r = try valueWithGradients(at: [x], api: "valueWithGradient(at:of:)") { try f($0[0]) }
    return (r.value, r.gradients[0])
}

/// The gradient of `f` at `x`.
public func gradient<Scalar>(at x: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>) rethrows -> Tensor<Scalar> {
    try valueWithGradient(at: x, of: f).gradient
}

/// The value of `f` at `(x, y)` and its gradients with respect to both arguments.
public func valueWithGradient<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, of f: (Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradient: (Tensor<Scalar>, Tensor<Scalar>)) {
    let r = try valueWithGradients(at: [x, y], api: "valueWithGradient(at:_:of:)") { try f($0[0], $0[1]) }
    return (r.value, (r.gradients[0], r.gradients[1]))
}

/// The gradients of `f` at `(x, y)`.
public func gradient<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, of f: (Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (Tensor<Scalar>, Tensor<Scalar>) {
    try valueWithGradient(at: x, y, of: f).gradient
}

/// The value of `f` at `(x, y, z)` and its gradients with respect to all three arguments.
public func valueWithGradient<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ z: Tensor<Scalar>,
    of f: (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradient: (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>)) {
    let r = try valueWithGradients(at: [x, y, z], api: "valueWithGradient(at:_:_:of:)") { try f($0[0], $0[1], $0[2]) }
    return (r.value, (r.gradients[0], r.gradients[1], r.gradients[2]))
}

/// The gradients of `f` at `(x, y, z)`.
public func gradient<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ z: Tensor<Scalar>,
    of f: (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) {
    try valueWithGradient(at: x, y, z, of: f).gradient
}

/// The value of `f` at an array of tensors and its gradient with respect to each.
public func valueWithGradient<Scalar>(
    at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradient: [Tensor<Scalar>]) {
    let r = try valueWithGradients(at: xs, api: "valueWithGradient(at:of:)", of: f)
    return (r.value, r.gradients)
}

/// The gradient of `f` with respect to each tensor of an array.
public func gradient<Scalar>(
    at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> [Tensor<Scalar>] {
    try valueWithGradient(at: xs, of: f).gradient
}
