// The PyTorch style on models: parameters that require gradients, `loss.backward()`, the gradients read
// from the model, `zeroGradients()` between steps.

extension Module {
    /// A copy whose parameters require gradients (see `Tensor.requiringGradient()`): `backward()` on a
    /// result computed with it accumulates into each parameter's `grad`. Parameters that already require
    /// one keep theirs.
    ///
    /// ```swift
    /// var model = Classifier().requiringGradients()
    /// for batch in batches {
    ///     model.zeroGradients()
    ///     softmaxCrossEntropy(logits: model(batch.features), labels: batch.labels).backward()
    ///     optimizer.update(&model)
    /// }
    /// ```
    public func requiringGradients() -> Self {
        var copy = self
        var visitor = TensorVisitor<Scalar> { tensor, role, _ in
            if role == .parameter, !tensor.requiresGradient { tensor = tensor.requiringGradient() }
        }
        copy.visitTensors(with: &visitor)
        return copy
    }

    /// Forgets every parameter's accumulated gradient (PyTorch's `zero_grad(set_to_none=True)`), so the
    /// next `backward()` starts afresh instead of adding to the last step's.
    public func zeroGradients() {
        for parameter in parameters { parameter.clearGradient() }
    }

    /// The gradients accumulated by `backward()` as a model of the same type: each parameter replaced by
    /// its `grad`, or by zeros where it has none (it does not require a gradient, or no backward pass
    /// reached it since `zeroGradients()`).
    public var accumulatedGradient: Self {
        replacingParameters(with: parameters.map { $0.grad?.detached() ?? Tensor.zeros(shape: $0.shape) })
    }
}
