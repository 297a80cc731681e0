/// Batched sweeps: many seeds at once, for Jacobians and Hessians.
///
/// A Jacobian by reverse mode needs one sweep per output element, by forward mode one per input element.
/// Run one by one, each sweep reads every weight matrix again (a matrix-vector product per layer). A
/// batched sweep stacks the k seeds along a new leading axis and carries `[k] + shape` through every node,
/// so each layer does one matrix-matrix product instead (what JAX gets from `vmap`). Rules with a
/// `batchedVJP`/`batchedJVP` handle the extra axis directly; for the others the sweep applies the plain
/// rule to each seed in turn. First order only (the results are not recorded); nested transforms use the
/// recording sweeps one seed at a time.
extension Tape {
    /// The cotangents of every node of `start...root` for `k` seeds stacked as `seeds` (`[k] + root shape`),
    /// each of shape `[k] + node shape` (nil where nothing flows).
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func batchedReverseSweep(from root: Int32, seeds: Tensor<Scalar>, downTo start: Int) -> [Tensor<Scalar>?] {
        precondition(!isReleased, "jacobian: this graph was already released")
        let k = seeds.shape[0]
        var gradients = [Tensor<Scalar>?](repeating: nil, count: Int(root) + 1 - start)
        gradients[Int(root) - start] = seeds
        func add(_ g: Tensor<Scalar>, into parent: Int32) {
            guard parent >= start else { return }
            let p = Int(parent) - start
            gradients[p] = gradients[p].map { $0 + g } ?? g
        }
        withoutRecording {
            var i = Int(root)
            while i >= start {
                defer { i -= 1 }
                guard let g = gradients[i - start] else { continue }
                let n = node(i)
                if n.record < 0 {
                    if n.parentA >= start { add(g * n.partialA, into: n.parentA) }
                    if n.parentB >= start { add(g * n.partialB, into: n.parentB) }
                    continue
                }
                let record = records[Int(n.record)]
                guard let rule = record.rule, record.parents.contains(where: { $0 >= start }) else { continue }
                gradients[i - start] = nil
                let downstream: [Tensor<Scalar>?]
                if let batched = rule.batchedVJP {
                    downstream = batched(g, record.saved)
                } else {
                    let rows = (0..<k).map { s in rule.vjp(g.seed(s, shape: record.shape), record.saved) }
                    // Only parents in the sweep receive a cotangent: a constant operand (a concatenated or
                    // stacked constant, say) has no node whose shape the stack could take.
                    downstream = record.parents.indices.map { j in
                        record.parents[j] >= start ? stackSeeds(rows.map { $0[j] }, shape: shape(of: record.parents[j])) : nil
                    }
                }
                for (parent, gradient) in zip(record.parents, downstream) {
                    guard parent >= start, let gradient else { continue }
                    let expected = [k] + shape(of: parent)
                    precondition(
                        gradient.shape == expected,
                        "jacobian: the batched pullback of \(record.name) gave shape \(gradient.shape), expected \(expected)")
                    add(gradient, into: parent)
                }
            }
        }
        return gradients
    }

    /// The tangents of `outputs` for `k` directions per seeded node (`[k] + node shape`), by one forward
    /// sweep over `start...` the last output; each result has shape `[k] + output shape` (nil for zero).
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func batchedForwardSweep(from start: Int, outputs: [Int32], seeds: [Int32: Tensor<Scalar>], count k: Int) -> [Tensor<Scalar>?] {
        precondition(!isReleased, "jacobian: this graph was already released")
        guard let end = outputs.max() else { return [] }
        var tangents = [Tensor<Scalar>?](repeating: nil, count: Int(end) + 1 - start)
        func tangent(_ parent: Int32) -> Tensor<Scalar>? { parent >= start ? tangents[Int(parent) - start] : nil }
        withoutRecording {
            for i in start...Int(end) {
                let n = node(i)
                if n.record < 0 {
                    let ta = tangent(n.parentA).map { $0 * n.partialA }, tb = tangent(n.parentB).map { $0 * n.partialB }
                    tangents[i - start] = ta.map { ta in tb.map { ta + $0 } ?? ta } ?? tb
                    continue
                }
                let record = records[Int(n.record)]
                if let seed = seeds[Int32(i)] {
                    tangents[i - start] = seed
                    continue
                }
                guard let rule = record.rule else { continue }
                let inputs = record.parents.map(tangent)
                guard inputs.contains(where: { $0 != nil }) else { continue }
                let out: Tensor<Scalar>?
                if let batched = rule.batchedJVP {
                    out = batched(inputs, record.saved)
                } else {
                    let columns = (0..<k).map { s in
                        rule.jvp(zip(inputs, record.parents).map { t, p in t?.seed(s, shape: shape(of: p)) }, record.saved)
                    }
                    out = stackSeeds(columns, shape: record.shape)
                }
                if let out {
                    precondition(
                        out.shape == [k] + record.shape,
                        "jacobian: the batched tangent rule of \(record.name) gave shape \(out.shape), expected \([k] + record.shape)")
                }
                tangents[i - start] = out
            }
        }
        return outputs.map { tangents[Int($0) - start] }
    }

    /// Stacks per-seed results along a new leading axis (zeros where a seed gave none); nil if none did.
    private func stackSeeds(_ results: [Tensor<Scalar>?], shape: [Int]) -> Tensor<Scalar>? {
        guard results.contains(where: { $0 != nil }) else { return nil }
        return Tensor(stacking: results.map { $0?.reshaped(to: shape) ?? Tensor.zeros(shape: shape) })
    }
}

extension Tensor {
    /// Element `s` of a batch stacked along the leading axis, with the given shape.
    func seed(_ s: Int, shape: [Int]) -> Tensor {
        slicing(s..<(s + 1), alongAxis: 0).reshaped(to: shape)
    }
}
