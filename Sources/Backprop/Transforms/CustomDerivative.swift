// Custom derivatives: a function the engine should not trace (a call into C, an iterative solver, a
// straight-through estimator, a numerically stable formula) recorded as one primitive whose derivatives the
// user supplies.

/// Applies a function with user-supplied derivatives as one recorded primitive.
///
/// `value` computes the result from the inputs' values and is not recorded. `vjp` maps the inputs, the
/// output and the output's cotangent to one cotangent per input (each of its input's shape). `jvp` maps the
/// inputs, the output and one tangent per input to the output's tangent; without it, forward mode obtains
/// J·v from `vjp` by linearity (the gradient of u ↦ ⟨vjp(u), v⟩), which needs `vjp` to be written with
/// tensor operations.
///
/// Written with tensor operations, the rules are recorded when differentiated again, so the primitive
/// works under every transform and to any order that its rules support.
///
/// ```swift
/// // A straight-through estimator: rounds forward, passes the gradient through unchanged.
/// let y = customPrimitive(named: "round", at: [x], value: { xs in roundValues(xs[0]) },
///                         vjp: { _, _, g in [g] }, jvp: { _, _, t in t[0] })
/// ```
public func customPrimitive<Scalar>(
    named name: String = "custom", at inputs: [Tensor<Scalar>],
    value: @escaping ([Tensor<Scalar>]) throws -> Tensor<Scalar>,
    vjp: @escaping (_ inputs: [Tensor<Scalar>], _ output: Tensor<Scalar>, _ cotangent: Tensor<Scalar>) -> [Tensor<Scalar>],
    jvp: ((_ inputs: [Tensor<Scalar>], _ output: Tensor<Scalar>, _ tangents: [Tensor<Scalar>]) -> Tensor<Scalar>)? = nil
) rethrows -> Tensor<Scalar> {
    // Inside a trace the value is one opaque node: it runs on untraced inputs, and a replay calls it again.
    let detachedInputs = inputs.map { $0.detached().untraced() }
    var out = try withoutRecording { try value(detachedInputs) }.detached().untraced()
    if inputs.contains(where: \.isTraced) {
        out = out.traced(.opaque(name), inputs) { xs in
            do {
                return try withoutRecording { try value(xs) }
            } catch {
                preconditionFailure("compiled: the custom primitive \(name) threw \(error) when replayed")
            }
        }
    }
    let count = inputs.count
    let shapes = inputs.map(\.shape)
    return out.recorded(
        name, inputs: inputs, saving: inputs, savingOutput: true,
        vjp: { g, saved in
            let cotangents = vjp(Array(saved.prefix(count)), saved[count], g)
            precondition(cotangents.count == count, "\(name): its vjp returned \(cotangents.count) cotangents for \(count) inputs")
            for (c, shape) in zip(cotangents, shapes) {
                precondition(c.shape == shape, "\(name): its vjp returned shape \(c.shape) for an input of shape \(shape)")
            }
            return cotangents
        },
        jvp: { tangents, saved in
            let xs = Array(saved.prefix(count)), y = saved[count]
            let filled = zip(tangents, shapes).map { t, shape in t ?? Tensor.zeros(shape: shape) }
            if let jvp { return jvp(xs, y, filled) }
            // J·v as the gradient of the linear map u ↦ ⟨vjp(u), v⟩.
            return gradient(at: Tensor.zeros(shape: y.shape)) { u in
                let pulled = vjp(xs, y, u)
                precondition(
                    pulled.contains { $0.isTracked },
                    "\(name): forward mode needs a jvp, because its vjp is not written with tensor operations")
                return zip(pulled, filled).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
            }
        })
}

/// Applies a function of one tensor with user-supplied derivatives as one recorded primitive (see
/// `customPrimitive(named:at:value:vjp:jvp:)`).
public func customPrimitive<Scalar>(
    named name: String = "custom", at x: Tensor<Scalar>,
    value: @escaping (Tensor<Scalar>) throws -> Tensor<Scalar>,
    vjp: @escaping (_ x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ cotangent: Tensor<Scalar>) -> Tensor<Scalar>,
    jvp: ((_ x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ tangent: Tensor<Scalar>) -> Tensor<Scalar>)? = nil
) rethrows -> Tensor<Scalar> {
    try customPrimitive(
        named: name, at: [x], value: { try value($0[0]) }, vjp: { xs, y, g in [vjp(xs[0], y, g)] },
        jvp: jvp.map { jvp in { xs, y, ts in jvp(xs[0], y, ts[0]) } })
}
