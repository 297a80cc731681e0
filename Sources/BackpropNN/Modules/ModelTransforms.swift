// The transforms on whole models: a model goes in, its parameters are differentiated, and gradients come
// out as a value of the model's own type (read `gradient.encoder.weight`), ready for
// `optimizer.update(&model, along: gradient)`. Each is the array transform of the core on
// `model.parameters`, with `replacingParameters(with:)` putting tracked tensors into a copy of the model:
// the same pair takes models into any transform written for arrays of tensors.

/// The value of `f` at `model` and its gradient with respect to the model's parameters, as a model of the
/// same type whose parameters are the gradients (its buffers and everything else are `model`'s).
///
/// ```swift
/// let (loss, gradient) = valueWithGradient(at: model) { m in meanSquaredError(m(x), y) }
/// optimizer.update(&model, along: gradient)
/// ```
///
/// `f` must return a one-element tensor. A parameter `f` does not use gets a zero gradient.
public func valueWithGradient<Model: Module>(
    at model: Model, of f: (Model) throws -> Tensor<Model.Scalar>
) rethrows -> (value: Tensor<Model.Scalar>, gradient: Model) {
    let (value, gradients) = try valueWithGradient(at: model.parameters) { parameters in
        try f(model.replacingParameters(with: parameters))
    }
    return (value, model.replacingParameters(with: gradients))
}

/// The gradient of `f` with respect to `model`'s parameters, as a model of the same type whose parameters
/// are the gradients.
public func gradient<Model: Module>(
    at model: Model, of f: (Model) throws -> Tensor<Model.Scalar>
) rethrows -> Model {
    try valueWithGradient(at: model, of: f).gradient
}

/// The Hessian-vector product of `f` over `model`'s parameters along `direction` (a model of the same type
/// whose parameters are the direction), without forming the Hessian: a model whose parameters are H·v.
///
/// Forward-over-reverse, one forward sweep over the recorded gradient computation (see the core's
/// `hessianVectorProduct(at:along:of:)`); for a curvature probe, a Newton-CG step or a sharpness measure.
///
/// - Precondition: `direction` has `model`'s parameter shapes (a gradient of `model` has).
public func hessianVectorProduct<Model: Module>(
    at model: Model, along direction: Model, of f: (Model) throws -> Tensor<Model.Scalar>
) rethrows -> Model {
    let directions = direction.parameters
    let parameters = model.parameters
    precondition(
        directions.map(\.shape) == parameters.map(\.shape),
        "hessianVectorProduct(at:along:of:): the direction's parameter shapes \(directions.map(\.shape)) differ from the model's \(parameters.map(\.shape))")
    let products = try hessianVectorProduct(at: parameters, along: directions) { parameters in
        try f(model.replacingParameters(with: parameters))
    }
    return model.replacingParameters(with: products)
}
