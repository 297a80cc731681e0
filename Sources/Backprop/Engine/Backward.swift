/// The reverse sweeps: one reverse pass over a range of the tape, adding `upstream × local derivative`
/// into each parent (fan-out sums), in two flavours.
///
/// - `sweep(from:seed:downTo:)`: first order. Scalar records use the partial derivatives stored in the
///   forward pass; tensor records run their VJP with recording off. Nothing is added to the tape.
/// - `recordingSweep(from:seed:downTo:accumulatingLeaves:)`: every step is made of recorded operations,
///   so the gradients it returns are themselves tracked functions of the inputs and can be
///   differentiated again (nested transforms, `backward(createGraph: true)`).
///
/// A sweep covers nodes `start...root`: a nested transform recorded its inputs at `start`, so nothing
/// before them can depend on them; gradients that would flow further back are not computed.
extension Tape {
    /// The gradients of the nodes of a range with respect to one output, from `sweep(from:seed:downTo:)`.
    struct Gradients {
        /// The first node of the range.
        var start: Int
        /// Gradients of rank-0 nodes, indexed by node − start.
        var scalarGradients: [Scalar]
        /// Gradients of tensor records, indexed by record.
        var tensorGradients: [Tensor<Scalar>?]
    }

    /// One first-order reverse sweep from `root` down to node `start`. Leaves that require a gradient
    /// receive theirs.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func sweep(from root: Int32, seed: Tensor<Scalar>, downTo start: Int = 0) -> Gradients {
        precondition(!isReleased, "backward(): this graph was already released by an earlier backward pass")
        let count = Int(root) + 1 - start
        var scalarGradients = [Scalar](repeating: 0, count: Swift.max(count, 0))
        var tensorGradients = [Tensor<Scalar>?](repeating: nil, count: records.count)
        if isScalarNode(root) {
            scalarGradients[Int(root) - start] = seed.scalar
        } else {
            tensorGradients[Int(node(Int(root)).record)] = seed
        }
        // One recording scope for the whole sweep (the rules run with recording off), not one per record.
        withoutRecording {
            scalarGradients.withUnsafeMutableBufferPointer { sg in
                let nodes = self.nodes
                var i = Int(root)
                while i >= start {
                    let node = nodes[i]
                    if node.record < 0 {
                        let g = sg[i - start]
                        if g != 0 {
                            if node.parentA >= start { sg[Int(node.parentA) - start] += g * node.partialA }
                            if node.parentB >= start { sg[Int(node.parentB) - start] += g * node.partialB }
                        }
                    } else {
                        stepTensor(i, Int(node.record), start, sg, &tensorGradients)
                    }
                    i -= 1
                }
            }
        }
        return Gradients(start: start, scalarGradients: scalarGradients, tensorGradients: tensorGradients)
    }

    /// One tensor record of a first-order sweep (recording is off). The record is read in place, field by
    /// field, never copied out of the tape (a copy retains and releases every array and closure it holds).
    private func stepTensor(
        _ i: Int, _ r: Int, _ start: Int, _ sg: UnsafeMutableBufferPointer<Scalar>, _ tg: inout [Tensor<Scalar>?]
    ) {
        let upstream: Tensor<Scalar>
        if records[r].shape.isEmpty {
            guard sg[i - start] != 0 else { return }
            upstream = Tensor(sg[i - start])
        } else {
            guard let g = tg[r] else { return }
            upstream = g
        }
        if accumulatesIntoLeaves, let box = records[r].leafBox {
            box.accumulate(upstream)
        }
        guard records[r].rule != nil else { return }
        // Intermediate gradients are no longer needed once passed on (a level's input nodes, whose parents
        // lie before the range, keep theirs: they are the answer).
        if records[r].parents.contains(where: { $0 >= start }) { tg[r] = nil }
        // A slice adds its cotangent into the sub-range of its input's gradient: no zeros, no sum.
        if case .slice(let slice) = records[r].rule.unsafelyUnwrapped.form, !AnomalyDetection.isOn {
            let parent = records[r].parents[0]
            guard parent >= start else { return }
            let pr = Int(node(Int(parent)).record)
            if pr >= 0 && records[pr].shape == slice.inputShape {
                slice.accumulate(upstream, into: &tg[pr])
                return
            }
        }
        let downstream = records[r].rule.unsafelyUnwrapped.vjp(upstream, records[r].saved)
        if AnomalyDetection.isOn { AnomalyDetection.checkGradients(downstream, of: records[r], on: self) }
        for k in 0..<Swift.min(records[r].parents.count, downstream.count) {
            let parent = records[r].parents[k]
            guard parent >= start, let gradient = downstream[k] else { continue }
            let p = Int(parent)
            let pr = Int(node(p).record)
            if pr < 0 || records[pr].shape.isEmpty {
                sg[p - start] += gradient.scalar
            } else {
                checkGradientShape(gradient, of: r, for: pr)
                Tensor.accumulate(gradient, into: &tg[pr])
            }
        }
    }

    /// Stops with a message naming the primitive of record `r` when its VJP returns a cotangent of the wrong
    /// shape.
    func checkGradientShape(_ gradient: Tensor<Scalar>, of r: Int, for parentRecord: Int) {
        if gradient.shape != records[parentRecord].shape { checkGradientShape(gradient, of: records[r], for: parentRecord) }
    }

    /// Stops with a message naming the primitive when its VJP returns a cotangent of the wrong shape.
    func checkGradientShape(_ gradient: Tensor<Scalar>, of record: TensorRecord<Scalar>, for parentRecord: Int) {
        precondition(
            gradient.shape == records[parentRecord].shape,
            "backward(): the pullback of \(record.name) gave shape \(gradient.shape) for an input of shape \(records[parentRecord].shape)")
    }

    /// The saved values of `record`, attached to their nodes so that operations on them are recorded.
    func attachedSaved(_ record: TensorRecord<Scalar>) -> [Tensor<Scalar>] {
        zip(record.saved, record.savedNodes).map { value, node in value.attached(to: self, node: node) }
    }

    /// The scalar record at node `i` as differentiable tensors: its inputs and its output attached to their
    /// nodes, and its local partial derivatives built from them.
    func differentiableScalarStep(_ i: Int) -> (partialA: Tensor<Scalar>, partialB: Tensor<Scalar>) {
        let n = node(i)
        let code = ScalarPrimitiveCode(rawValue: ~n.record)!
        let a = Tensor(n.inputA).attached(to: self, node: n.parentA)
        let b = Tensor(n.inputB).attached(to: self, node: n.parentB)
        let y = Tensor(code.value(n.inputA, n.inputB)).attached(to: self, node: Int32(i))
        return code.partials(a, b, y)
    }

    /// One reverse sweep from `root` down to node `start` whose every step is recorded on this tape, so
    /// that the gradients are differentiable. Returns the gradient of each node of the range (indexed by
    /// node − start; nil where none flows). With `accumulatingLeaves`, leaves that require a gradient
    /// receive theirs as tracked tensors.
    func recordingSweep(
        from root: Int32, seed: Tensor<Scalar>, downTo start: Int, accumulatingLeaves: Bool = false
    ) -> [Tensor<Scalar>?] {
        precondition(!isReleased, "backward(): this graph was already released by an earlier backward pass")
        var gradients = [Tensor<Scalar>?](repeating: nil, count: Int(root) + 1 - start)
        gradients[Int(root) - start] = seed
        func add(_ g: Tensor<Scalar>, into parent: Int32) {
            guard parent >= start else { return }
            let p = Int(parent) - start
            guard let old = gradients[p] else {
                gradients[p] = g
                return
            }
            // Summing deferred products (a weight used twice) would compute them: defer the sum too.
            gradients[p] = old.mayBeDeferred || g.mayBeDeferred ? withDeferredValues { Tensor.accumulated(old, g) } : old + g
        }
        withCurrentTape(self) {
            withRecordingEnabled {
                var i = Int(root)
                while i >= start {
                    defer { i -= 1 }
                    guard let g = gradients[i - start] else { continue }
                    let n = node(i)
                    if n.record < 0 {
                        let (da, db) = differentiableScalarStep(i)
                        if n.parentA >= start { add(g.scaled(by: da), into: n.parentA) }
                        if n.parentB >= start { add(g.scaled(by: db), into: n.parentB) }
                        continue
                    }
                    let record = records[Int(n.record)]
                    if let box = record.leafBox, accumulatingLeaves {
                        box.accumulate(g, differentiably: true)
                    }
                    guard let rule = record.rule, record.parents.contains(where: { $0 >= start }) else { continue }
                    gradients[i - start] = nil
                    let downstream = withDeferredValues { rule.vjp(g, attachedSaved(record)) }
                    AnomalyDetection.checkGradients(downstream, of: record, on: self)
                    for (parent, gradient) in zip(record.parents, downstream) {
                        guard parent >= start, let gradient else { continue }
                        let pr = Int(node(Int(parent)).record)
                        if pr >= 0 { checkGradientShape(gradient, of: record, for: pr) }
                        add(pr < 0 || records[pr].shape.isEmpty ? gradient.reshaped(to: []) : gradient, into: parent)
                    }
                }
            }
        }
        return gradients
    }
}

extension Tape {
    /// The gradient that `gradients` holds for `node` (an input, a leaf, or a scalar node), whose value has
    /// `shape`.
    func gradient(in gradients: Gradients, at node: Int32, shape: [Int]) -> Tensor<Scalar> {
        let index = Int(node) - gradients.start
        guard node >= 0, index >= 0, index < gradients.scalarGradients.count else { return Tensor.zeros(shape: shape) }
        let r = Int(self.node(Int(node)).record)
        if r < 0 || records[r].shape.isEmpty {
            return Tensor(shape: shape, scalars: [gradients.scalarGradients[index]])
        }
        return gradients.tensorGradients[r] ?? Tensor.zeros(shape: shape)
    }
}

extension Tensor {
    /// self · factor, without recording a product when the factor is the constant 1 or −1 (the partials
    /// of sums and differences), which keeps recorded sweeps of scalar graphs small.
    func scaled(by factor: Tensor) -> Tensor {
        if !factor.isTracked && factor.rank == 0 {
            if factor.scalarValue == 1 { return self }
            if factor.scalarValue == -1 { return -self }
        }
        return self * factor
    }
}

extension Tensor {
    /// Adds the cotangent `g` into `total` (nil: none yet) during a first-order sweep: in place when `total`
    /// owns its values (copy-on-write copies them first when anything else still shares them), so a node
    /// with many uses gathers its gradient in one buffer instead of a new tensor per use. Long tensors take
    /// the addition's kernel, on all cores.
    static func accumulate(_ g: Tensor, into total: inout Tensor?) {
        guard var sum = total else {
            total = g
            return
        }
        total = nil
        guard sum.shape == g.shape, !sum.shape.isEmpty, sum.scalarCount < elementwiseParallelThreshold,
              sum.tape == nil, sum.annex == nil, g.annex == nil else {
            total = sum + g
            return
        }
        let count = sum.scalarCount
        g.withScalarBuffer { gp in
            sum.buffer.withUnsafeMutableBufferPointer { sp in
                for k in 0..<count { sp[k] += gp[k] }
            }
        }
        total = sum
    }
}
