// An optimizer's buffers in a checkpoint: slot `m` of parameter `0.weight` under `optimizer.m.0.weight`.

extension Checkpoint {
    /// Stores the buffers of `state` under `optimizer.<slot>.<parameter name>`, in the order of
    /// `parameterNames` (the model's, matching the buffers'). The step count is metadata, left to the caller.
    public mutating func setOptimizerState<Scalar: TensorScalar>(_ state: OptimizerState<Scalar>, parameterNames: [String]) {
        for slot in state.slots.keys.sorted() {
            for (name, buffer) in zip(parameterNames, state.slots[slot] ?? []) {
                // Parameter names are unique, so the names here are; a clash would be a name already used.
                try? setTensor(buffer, named: "optimizer.\(slot).\(name)")
            }
        }
    }

    /// The optimizer state stored by `setOptimizerState(_:parameterNames:)` for parameters of the given
    /// names and shapes, with step count `step`.
    ///
    /// - Throws: `CheckpointError` when a slot lacks a parameter's buffer, has one of another shape, or
    ///   holds a value that is not finite as `Scalar`.
    public func optimizerState<Scalar: TensorScalar>(
        step: Int, parameterNames names: [String], shapes: [[Int]], as _: Scalar.Type = Scalar.self
    ) throws -> OptimizerState<Scalar> {
        var state = OptimizerState<Scalar>(step: step)
        let stored = tensors(withPrefix: "optimizer.", as: Scalar.self)
        var slotNames = Set<String>()
        for key in stored.keys {
            let rest = key.dropFirst("optimizer.".count)
            if let dot = rest.firstIndex(of: "."), names.contains(String(rest[rest.index(after: dot)...])) {
                slotNames.insert(String(rest[..<dot]))
            }
        }
        for slot in slotNames {
            var buffers: [Tensor<Scalar>] = []
            for (name, shape) in zip(names, shapes) {
                guard let buffer = stored["optimizer.\(slot).\(name)"], buffer.shape == shape else {
                    throw CheckpointError("checkpoint's optimizer state optimizer.\(slot).\(name) is missing or not of shape \(shape)")
                }
                guard allFinite([buffer]) else {
                    throw CheckpointError("checkpoint's optimizer state optimizer.\(slot).\(name) holds a value that is not finite as \(scalarName(Scalar.self))")
                }
                buffers.append(buffer)
            }
            state.slots[slot] = buffers
        }
        return state
    }
}
