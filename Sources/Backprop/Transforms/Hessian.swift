// Second derivatives: the Hessian as the forward-mode Jacobian of the reverse-mode gradient (JAX's
// jacfwd(jacrev(f))), and Hessian-vector products by forward-over-reverse without forming the Hessian.

/// Checks that a function's result can be differentiated twice as a scalar function.
private func requireOneElement<Scalar>(_ y: Tensor<Scalar>, _ api: String) {
    precondition(y.scalarCount == 1, "\(api): the function must return a one-element tensor, got shape \(y.shape)")
}

/// The Hessian of `f` at `x`: a tensor of shape `x.shape + x.shape` whose element [i…, j…] is
/// ∂²f/∂x[i…]∂x[j…]. `f` must return a one-element tensor.
///
/// Computed as the forward-mode Jacobian of the gradient: one recording of the gradient computation, then
/// one forward sweep per element of `x`.
public func hessian<Scalar>(at x: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>) rethrows -> Tensor<Scalar> {
    try jacobian(at: x, mode: .forward) { x in
        try gradient(at: x) { x in
            let y = try f(x)
            requireOneElement(y, "hessian(at:of:)")
            return y
        }
    }
}

/// The Hessian blocks of `f` at an array of tensors: element [i][j] has shape `xs[i].shape + xs[j].shape`
/// and holds ∂²f/∂xᵢ∂xⱼ.
public func hessian<Scalar>(
    at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> [[Tensor<Scalar>]] {
    try xs.indices.map { i in
        try jacobian(at: xs, mode: .forward) { xs in
            try gradient(at: xs) { xs in
                let y = try f(xs)
                requireOneElement(y, "hessian(at:of:)")
                return y
            }[i]
        }
    }
}

/// The Hessian-vector product H·v of `f` at `x` without forming H: one forward sweep over the recorded
/// gradient computation (forward-over-reverse), a small constant times the cost of the gradient.
public func hessianVectorProduct<Scalar>(
    at x: Tensor<Scalar>, along v: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> Tensor<Scalar> {
    try hessianVectorProduct(at: [x], along: [v]) { try f($0[0]) }[0]
}

/// The Hessian-vector product of `f` at an array of tensors along one direction per tensor: for each
/// tensor i, Σⱼ ∂²f/∂xᵢ∂xⱼ · vⱼ.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func hessianVectorProduct<Scalar>(
    at xs: [Tensor<Scalar>], along vs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> [Tensor<Scalar>] {
    // One level records f and its gradient; one forward sweep per output tensor reads the same recording.
    let level = DifferentiationLevel(arguments: xs)
    defer { level.close() }
    let gradients = try level.evaluate { xs in
        try gradient(at: xs) { xs in
            let y = try f(xs)
            requireOneElement(y, "hessianVectorProduct(at:along:of:)")
            return y
        }
    }
    return level.tangents(of: gradients, along: vs)
}
