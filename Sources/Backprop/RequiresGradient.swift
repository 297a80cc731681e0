// The PyTorch-style API: mark tensors as requiring a gradient, call backward() on a result, read grad.

extension Tensor {
    /// Whether backward passes accumulate a gradient for this tensor into `grad`.
    ///
    /// Copies of a tensor that requires a gradient share its `grad`, as a parameter's copies do.
    public var requiresGradient: Bool {
        get { leaf != nil }
        set {
            if newValue, leaf == nil {
                self = detached()
                makeLeaf()
            } else if !newValue {
                dropLeaf()
            }
        }
    }

    /// A copy that requires a gradient (a new leaf with its own `grad`).
    public func requiringGradient() -> Tensor {
        var copy = detached()
        copy.makeLeaf()
        return copy
    }

    /// The gradient accumulated by backward passes since the last `clearGradient()`, or nil.
    public var grad: Tensor? { leaf?.gradient }

    /// Forgets the accumulated gradient.
    public func clearGradient() { leaf?.clear() }

    /// Sweeps the graph that produced this one-element tensor backward, adding ∂self/∂t into `t.grad` for
    /// every tensor `t` that requires a gradient, then frees the graph.
    ///
    /// - Parameters:
    ///   - retainingGraph: keep the graph for another backward pass.
    ///   - createGraph: record the backward pass itself (PyTorch's `create_graph=True`), so that each
    ///     `grad` is a tracked function of the leaves and can be differentiated again, for example with
    ///     `grad.backward()` or inside `gradient(at:of:)`. Implies `retainingGraph`.
    public func backward(retainingGraph: Bool = false, createGraph: Bool = false) {
        precondition(scalarCount == 1, "backward(): needs a one-element tensor, got shape \(shape)")
        precondition(
            !isTracing,
            "backward(): a compiled function cannot accumulate gradients into leaves (a side effect a replay would "
                + "not repeat); take them with valueWithGradient(at:of:) inside it and return them")
        guard let tape, !tape.isReleased else {
            if let leaf { leaf.accumulate(Tensor(repeating: 1, shape: shape)) }
            return
        }
        if createGraph {
            _ = tape.recordingSweep(from: node, seed: Tensor(repeating: 1, shape: shape), downTo: 0, accumulatingLeaves: true)
            return
        }
        _ = tape.sweep(from: node, seed: Tensor(repeating: 1, shape: shape))
        if !retainingGraph { tape.release() }
    }
}
