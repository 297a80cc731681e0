/// The reverse sweep.
extension Tape {
    /// The gradients of every node with respect to one output, produced by `sweep(from:seed:)`.
    struct Gradients {
        var scalarGradients: [Scalar]
        var tensorGradients: [Tensor<Scalar>?]
    }

    /// One reverse sweep from `root`: each node's upstream gradient times its local derivatives is added
    /// into its parents (fan-out sums). Leaves that require a gradient receive theirs.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func sweep(from root: Int32, seed: Tensor<Scalar>) -> Gradients {
        precondition(!isReleased, "backward(): this graph was already released by an earlier backward pass")
        let count = Int(root) + 1
        var scalarGradients = [Scalar](repeating: 0, count: count)
        var tensorGradients = [Tensor<Scalar>?](repeating: nil, count: records.count)
        if isScalarNode(root) {
            scalarGradients[Int(root)] = seed.scalar
        } else {
            tensorGradients[Int(nodes[Int(root)].record)] = seed
        }
        scalarGradients.withUnsafeMutableBufferPointer { sg in
            do {
                let nodes = self.nodes
                var i = count - 1
                while i >= 0 {
                    let node = nodes[i]
                    if node.record < 0 {
                        let g = sg[i]
                        if g != 0 {
                            if node.parentA >= 0 { sg[Int(node.parentA)] += g * node.partialA }
                            if node.parentB >= 0 { sg[Int(node.parentB)] += g * node.partialB }
                        }
                    } else {
                        stepTensor(i, Int(node.record), sg, &tensorGradients)
                    }
                    i -= 1
                }
            }
        }
        return Gradients(scalarGradients: scalarGradients, tensorGradients: tensorGradients)
    }

    private func stepTensor(
        _ i: Int, _ r: Int, _ sg: UnsafeMutableBufferPointer<Scalar>, _ tg: inout [Tensor<Scalar>?]
    ) {
        let record = records[r]
        let upstream: Tensor<Scalar>
        if record.shape.isEmpty {
            guard sg[i] != 0 else { return }
            upstream = Tensor(sg[i])
        } else {
            guard let g = tg[r] else { return }
            upstream = g
        }
        if let box = record.leafBox, accumulatesIntoLeaves {
            box.accumulate(upstream)
        }
        guard let pullback = record.pullback else { return }
        // Intermediate gradients are no longer needed once passed on.
        tg[r] = nil
        let downstream = withoutRecording { pullback(upstream) }
        for (parent, gradient) in zip(record.parents, downstream) {
            guard parent >= 0, let gradient else { continue }
            let p = Int(parent)
            let pr = Int(nodes[p].record)
            if pr < 0 || records[pr].shape.isEmpty {
                sg[p] += gradient.scalar
            } else {
                precondition(
                    gradient.shape == records[pr].shape,
                    "backward(): the pullback of \(record.name) gave shape \(gradient.shape) for an input of shape \(records[pr].shape)")
                if let old = tg[pr] {
                    tg[pr] = withoutRecording { old + gradient }
                } else {
                    tg[pr] = gradient
                }
            }
        }
    }
}

extension Tape {
    /// The gradient that `gradients` holds for `node` (a leaf, or a scalar node), whose value has `shape`.
    func gradient(in gradients: Gradients, at node: Int32, shape: [Int]) -> Tensor<Scalar> {
        guard node >= 0, Int(node) < gradients.scalarGradients.count else { return Tensor.zeros(shape: shape) }
        if shape.isEmpty { return Tensor(gradients.scalarGradients[Int(node)]) }
        let r = Int(nodes[Int(node)].record)
        return (r >= 0 ? gradients.tensorGradients[r] : nil) ?? Tensor.zeros(shape: shape)
    }
}
