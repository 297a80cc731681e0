// Optimizers on whole models: `optimizer.update(&model, along: gradient)` with a gradient from
// `valueWithGradient(at: model)`, or `optimizer.update(&model)` with the gradients `backward()` left.

extension Optimizer {
    /// Updates `model`'s parameters along `gradient`'s (a model of the same type, as
    /// `valueWithGradient(at:of:)` returns), in place: each parameter's storage is updated where it lies
    /// when the model holds the only reference to it.
    ///
    /// - Precondition: `gradient` has `model`'s parameter shapes.
    public mutating func update<Model: Module>(_ model: inout Model, along gradient: Model) where Model.Scalar == Scalar {
        update(&model, along: gradient.parameters)
    }

    /// Updates `model`'s parameters along the gradients accumulated by `backward()` (zeros where a
    /// parameter has none). Call `model.zeroGradients()` before the next step's `backward()`.
    public mutating func update<Model: Module>(_ model: inout Model) where Model.Scalar == Scalar {
        update(&model, along: model.parameters.map { $0.grad?.detached() ?? Tensor.zeros(shape: $0.shape) })
    }

    /// Updates `model`'s parameters along `gradients`, given in the order of `model.parameters`.
    ///
    /// The parameters are moved out of the model for the update and back (each replaced by a placeholder
    /// meanwhile), so their storage is not copied when the model was its only owner.
    public mutating func update<Model: Module>(_ model: inout Model, along gradients: [Tensor<Scalar>])
    where Model.Scalar == Scalar {
        var parameters = model.takeParameters()
        update(&parameters, along: gradients)
        model.restoreParameters(parameters)
    }
}
