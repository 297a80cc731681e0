import BackpropNN

extension Communicator {
    /// Sums a step's gradients (the parameter-ordered list the optimizers take) over all ranks and
    /// divides by `divisor`, in one flat buffer (a single bucket). For the mean gradient of a global batch
    /// of B examples, give each rank's gradient of the SUM of its shard's per-example losses and
    /// `divisor: B`; an empty shard contributes zeros.
    public func allreduceGradients(_ gradients: [Tensor<Float>], dividingBy divisor: Int) throws -> [Tensor<Float>] {
        var flat = [Float]()
        flat.reserveCapacity(gradients.reduce(0) { $0 + $1.scalarCount })
        for g in gradients { flat.append(contentsOf: g.scalars) }
        try allreduceSum(&flat)
        let scale = 1 / Float(divisor)
        var offset = 0
        return gradients.map { g in
            let n = g.scalarCount
            let slice = flat[offset..<offset + n].map { $0 * scale }
            offset += n
            return Tensor(shape: g.shape, scalars: slice)
        }
    }

    /// Replaces every rank's parameters with rank 0's (for a resumed or differently initialised run).
    public func broadcastParameters(_ parameters: inout [Tensor<Float>]) throws {
        var flat = parameters.flatMap { $0.scalars }
        try broadcast(&flat)
        var offset = 0
        parameters = parameters.map { p in
            let n = p.scalarCount
            defer { offset += n }
            return Tensor(shape: p.shape, scalars: Array(flat[offset..<offset + n]))
        }
    }
}
