// Forward mode: the Jacobian-vector product J·v of a function of any output shape, by one forward sweep.

/// Checks that a direction has its argument's shape.
private func requireDirections<Scalar>(_ xs: [Tensor<Scalar>], _ vs: [Tensor<Scalar>], _ api: String) {
    precondition(xs.count == vs.count, "\(api): \(vs.count) directions for \(xs.count) arguments")
    for (x, v) in zip(xs, vs) {
        precondition(x.shape == v.shape, "\(api): the direction has shape \(v.shape), its argument has shape \(x.shape)")
    }
}

/// The value of `f` at an array of tensors and the Jacobian-vector product Σᵢ Jᵢ·vᵢ along one direction
/// per tensor, by forward mode: the tangents v̇ = Σ ∂v/∂p · ṗ of every node, seeded with `vs`, in execution
/// order.
public func valueWithJVP<Scalar>(
    at xs: [Tensor<Scalar>], along vs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, jvp: Tensor<Scalar>) {
    requireDirections(xs, vs, "valueWithJVP(at:along:of:)")
    let level = DifferentiationLevel(arguments: xs)
    defer { level.close() }
    let y = try level.evaluate(f)
    return (level.exported(y), level.tangent(of: y, along: vs))
}

/// The value of `f` at `x` and the Jacobian-vector product J·v (the directional derivative of `f` at `x`
/// along `v`), by one forward sweep.
///
/// ```swift
/// let (y, dy) = valueWithJVP(at: Tensor<Double>(2), along: Tensor(1)) { x in x * x * x }
/// // y == 8, dy == 12
/// ```
public func valueWithJVP<Scalar>(
    at x: Tensor<Scalar>, along v: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, jvp: Tensor<Scalar>) {
    try valueWithJVP(at: [x], along: [v]) { try f($0[0]) }
}

/// The value of `f` at `(x, y)` and its JVP along `(vx, vy)`: J_x·vx + J_y·vy.
public func valueWithJVP<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, along vx: Tensor<Scalar>, _ vy: Tensor<Scalar>,
    of f: (Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, jvp: Tensor<Scalar>) {
    try valueWithJVP(at: [x, y], along: [vx, vy]) { try f($0[0], $0[1]) }
}

/// The value of `f` at `(x, y, z)` and its JVP along `(vx, vy, vz)`.
public func valueWithJVP<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ z: Tensor<Scalar>,
    along vx: Tensor<Scalar>, _ vy: Tensor<Scalar>, _ vz: Tensor<Scalar>,
    of f: (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, jvp: Tensor<Scalar>) {
    try valueWithJVP(at: [x, y, z], along: [vx, vy, vz]) { try f($0[0], $0[1], $0[2]) }
}

/// The Jacobian-vector product J·v of `f` at `x`, by forward mode.
public func jvp<Scalar>(
    at x: Tensor<Scalar>, along v: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> Tensor<Scalar> {
    try valueWithJVP(at: x, along: v, of: f).jvp
}

/// The JVP of `f` at `(x, y)` along `(vx, vy)`.
public func jvp<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, along vx: Tensor<Scalar>, _ vy: Tensor<Scalar>,
    of f: (Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> Tensor<Scalar> {
    try valueWithJVP(at: x, y, along: vx, vy, of: f).jvp
}

/// The JVP of `f` at `(x, y, z)` along `(vx, vy, vz)`.
public func jvp<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ z: Tensor<Scalar>,
    along vx: Tensor<Scalar>, _ vy: Tensor<Scalar>, _ vz: Tensor<Scalar>,
    of f: (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> Tensor<Scalar> {
    try valueWithJVP(at: x, y, z, along: vx, vy, vz, of: f).jvp
}

/// The JVP of `f` at an array of tensors along one direction per tensor.
public func jvp<Scalar>(
    at xs: [Tensor<Scalar>], along vs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> Tensor<Scalar> {
    try valueWithJVP(at: xs, along: vs, of: f).jvp
}
