/// The forward sweep: forward-mode differentiation along the Wengert list.
///
/// Lecture 004's forward mode carries, for every node v in execution order, its tangent v̇ = ∂v/∂input
/// (seeded at the inputs): v̇ = Σ over parents p of ∂v/∂p · ṗ. The tape is already in execution order, so
/// the sweep visits nodes `start...end` once, front to back, applying each primitive's JVP. The tangents are
/// formed after the primal pass recorded the range, which lets one recording serve many sweeps (the columns
/// of a Jacobian) and lets sweeps nest inside other transforms exactly as the reverse sweep does.
extension Tape {
    /// One forward sweep from node `start` through the last of `outputs`, with the given tangents at seeded
    /// nodes (every other node of the range starts from a zero tangent, and nodes before `start` have
    /// none). Returns the tangent of each output (nil when it is zero).
    ///
    /// With `recording`, every step is recorded on this tape, so the tangents are differentiable.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func forwardSweep(from start: Int, outputs: [Int32], seeds: [Int32: Tensor<Scalar>], recording: Bool) -> [Tensor<Scalar>?] {
        precondition(!isReleased, "jvp: this graph was already released")
        guard let end = outputs.max() else { return [] }
        let count = Int(end) + 1 - start
        if recording {
            return withCurrentTape(self) {
                withRecordingEnabled {
                    let tangents = recordingForwardSweep(from: start, count: count, seeds: seeds)
                    return outputs.map { tangents[Int($0) - start] }
                }
            }
        }
        // First order: scalar tangents in a flat array, tensor tangents per node (nil = zero).
        var scalarTangents = [Scalar](repeating: 0, count: count)
        var tensorTangents = [Int: Tensor<Scalar>]()
        func tangent(_ parent: Int32) -> Tensor<Scalar>? {
            guard parent >= start else { return nil }
            let p = Int(parent)
            let r = node(p).record
            if r < 0 || records[Int(r)].shape.isEmpty {
                let t = scalarTangents[p - start]
                return t == 0 ? nil : Tensor(t)
            }
            return tensorTangents[p]
        }
        withoutRecording {
            for i in start..<(start + count) {
                let n = node(i)
                if n.record < 0 {
                    var t: Scalar = 0
                    if n.parentA >= start { t += n.partialA * scalarTangents[Int(n.parentA) - start] }
                    if n.parentB >= start { t += n.partialB * scalarTangents[Int(n.parentB) - start] }
                    scalarTangents[i - start] = t
                    continue
                }
                // The record is read in place, field by field, not copied out of the tape.
                let r = Int(n.record)
                let out: Tensor<Scalar>?
                if let seed = seeds[Int32(i)] {
                    out = seed
                } else if records[r].rule != nil {
                    let inputs = records[r].parents.map(tangent)
                    out = inputs.allSatisfy({ $0 == nil }) ? nil : records[r].rule.unsafelyUnwrapped.jvp(inputs, records[r].saved)
                } else {
                    out = nil
                }
                guard let out else { continue }
                if records[r].shape.isEmpty {
                    scalarTangents[i - start] = out.scalar
                } else {
                    if out.shape != records[r].shape { checkTangentShape(out, of: records[r]) }
                    tensorTangents[i] = out
                }
            }
        }
        return outputs.map(tangent)
    }

    private func recordingForwardSweep(from start: Int, count: Int, seeds: [Int32: Tensor<Scalar>]) -> [Tensor<Scalar>?] {
        var tangents = [Tensor<Scalar>?](repeating: nil, count: count)
        func tangent(_ parent: Int32) -> Tensor<Scalar>? { parent >= start ? tangents[Int(parent) - start] : nil }
        for i in start..<(start + count) {
            let n = node(i)
            if n.record < 0 {
                let ta = tangent(n.parentA), tb = tangent(n.parentB)
                guard ta != nil || tb != nil else { continue }
                let (da, db) = differentiableScalarStep(i)
                let parts = [ta.map { $0.scaled(by: da) }, tb.map { $0.scaled(by: db) }].compactMap { $0 }
                tangents[i - start] = parts.count == 2 ? parts[0] + parts[1] : parts[0]
                continue
            }
            let record = records[Int(n.record)]
            if let seed = seeds[Int32(i)] {
                tangents[i - start] = seed
            } else if let rule = record.rule {
                let inputs = record.parents.map(tangent)
                guard inputs.contains(where: { $0 != nil }) else { continue }
                if let out = rule.jvp(inputs, attachedSaved(record)) {
                    checkTangentShape(out, of: record)
                    tangents[i - start] = out
                }
            }
        }
        return tangents
    }

    /// Stops with a message naming the primitive when its JVP returns a tangent of the wrong shape.
    private func checkTangentShape(_ tangent: Tensor<Scalar>, of record: TensorRecord<Scalar>) {
        precondition(
            tangent.shape == record.shape,
            "jvp: the tangent rule of \(record.name) gave shape \(tangent.shape) for an output of shape \(record.shape)")
    }
}
