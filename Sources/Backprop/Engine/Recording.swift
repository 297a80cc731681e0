import CBackpropKernels

/// How primitives record themselves on a tape.
///
/// A primitive computes its value without looking at tracking, then calls one of these helpers with its
/// local derivatives (scalar case) or its pullback (tensor case). If no input is tracked, or recording is
/// switched off, nothing is recorded and the result is a constant.
extension Tensor {
    /// Whether this tensor is on a live tape or requires a gradient.
    @inlinable @inline(__always)
    public var isTracked: Bool {
        if let tape, !tape.isReleased { return true }
        return leaf != nil
    }

    /// A copy that is not tracked: gradients do not flow through it.
    public func detached() -> Tensor {
        var copy = self
        copy.materializeDeferredValue()
        copy.tape = nil
        copy.node = -1
        copy.dropLeaf()
        return copy
    }

    /// Chooses the tape for an operation on one tracked input.
    @inlinable @inline(__always)
    static func tapeFor(_ a: Tensor) -> Tape<Scalar> {
        if let ta = a.tape, !ta.isReleased { return ta }
        return currentTape()
    }

    /// Chooses the tape for an operation on two inputs, at least one of them tracked.
    @inlinable @inline(__always)
    static func tapeFor(_ a: Tensor, _ b: Tensor) -> Tape<Scalar> {
        if let ta = a.tape, !ta.isReleased {
            if let tb = b.tape, tb !== ta, !tb.isReleased { mixedTapes() }
            return ta
        }
        if let tb = b.tape, !tb.isReleased { return tb }
        return currentTape()
    }

    /// Stops with a message: two live tapes in one operation.
    @usableFromInline
    static func mixedTapes() -> Never {
        preconditionFailure(
            "Backprop: an operation mixes tensors recorded on two different gradient tapes "
                + "(for example a tensor from an outer valueWithGradient used inside an inner one); "
                + "call detached() on one of them")
    }

    /// The calling thread's current tape.
    @usableFromInline
    static func currentTape() -> Tape<Scalar> { ThreadContext.current.currentTape(Scalar.self) }

    /// Chooses the tape for an operation on several inputs.
    static func tapeFor(_ inputs: [Tensor]) -> Tape<Scalar> {
        var chosen: Tape<Scalar>? = nil
        for input in inputs {
            guard let t = input.tape, !t.isReleased else { continue }
            if let c = chosen, c !== t {
                preconditionFailure(
                    "Backprop: an operation mixes tensors recorded on two different gradient tapes; "
                        + "call detached() on one of them")
            }
            chosen = t
        }
        return chosen ?? ThreadContext.current.currentTape(Scalar.self)
    }

    /// This tensor's node on `tape`, adding a leaf node for a tensor that requires a gradient; -1 for a
    /// constant.
    @inlinable @inline(__always)
    func nodeOn(_ tape: Tape<Scalar>) -> Int32 {
        if let t = self.tape, t === tape { return node }
        return leaf == nil ? -1 : leafNode(on: tape)
    }

    /// The node of this leaf on `tape`, joining it if needed (kept out of line: the inlined fast paths
    /// only call it for tensors that require a gradient).
    @usableFromInline @inline(never)
    func leafNode(on tape: Tape<Scalar>) -> Int32 {
        guard let box = leaf else { return -1 }
        if let cached = box.cachedNode(on: tape) { return cached }
        let node = tape.appendRecord(TensorRecord(name: "leaf", parents: [], shape: shape, rule: nil, leafBox: box))
        box.cache(node: node, on: tape)
        return node
    }

    /// Records a scalar primitive with one input: `self` is the output value, `input` the argument and
    /// `partial` = ∂output/∂input.
    ///
    /// The fast path of scalar graphs, inlined into the caller: while no thread has a `withoutRecording` or
    /// `withAnomalyDetection` scope open, it reads one global counter and appends one node.
    @inlinable @inline(__always)
    func recordedUnary(_ code: ScalarPrimitiveCode, _ input: Tensor, partial: Scalar) -> Tensor {
        guard input.isTracked else { return self }
        if bp_recording_disabled_scope_count() != 0 { return recordedInScope(code, input, partial, Tensor(0), 0) }
        let tape = Tensor.tapeFor(input)
        var out = self
        out.tape = tape
        out.node = tape.appendScalar(code, input.nodeOn(tape), partial, input.scalarValue, -1, 0, 0)
        return out
    }

    /// Records a scalar primitive with two inputs and their local partial derivatives.
    @inlinable @inline(__always)
    func recordedBinary(_ code: ScalarPrimitiveCode, _ a: Tensor, _ da: Scalar, _ b: Tensor, _ db: Scalar) -> Tensor {
        guard a.isTracked || b.isTracked else { return self }
        if bp_recording_disabled_scope_count() != 0 { return recordedInScope(code, a, da, b, db) }
        let tape = Tensor.tapeFor(a, b)
        var out = self
        out.tape = tape
        out.node = tape.appendScalar(code, a.nodeOn(tape), da, a.scalarValue, b.nodeOn(tape), db, b.scalarValue)
        return out
    }

    /// The slow path of scalar recording, while some thread has a `withoutRecording` or
    /// `withAnomalyDetection` scope open: honours this thread's scopes, then records (`b` is ignored for a
    /// unary primitive).
    @usableFromInline
    func recordedInScope(_ code: ScalarPrimitiveCode, _ a: Tensor, _ da: Scalar, _ b: Tensor, _ db: Scalar) -> Tensor {
        guard ThreadContext.current.recordingDisabled == 0 else { return self }
        let inputs = code.arity == 1 ? [a] : [a, b]
        AnomalyDetection.checkValue(self, of: code.name, inputs: inputs)
        // A scalar record's local derivatives are computed now: check them as its gradient.
        AnomalyDetection.checkScalarPartials([da, db].prefix(inputs.count).map { Tensor<Scalar>($0) }, of: code.name, inputs: inputs)
        let tape = code.arity == 1 ? Tensor.tapeFor(a) : Tensor.tapeFor(a, b)
        var out = self
        out.tape = tape
        out.node = code.arity == 1
            ? tape.appendScalar(code, a.nodeOn(tape), da, a.scalarValue, -1, 0, 0)
            : tape.appendScalar(code, a.nodeOn(tape), da, a.scalarValue, b.nodeOn(tape), db, b.scalarValue)
        return out
    }

    /// Records a tensor primitive: `self` is the output value of `name` applied to `inputs`.
    ///
    /// - Parameters:
    ///   - saving: values the rule reads (usually some of the inputs); they are handed back to the rule,
    ///     in this order, followed by the output when `savingOutput` is true.
    ///   - vjp: the output's cotangent → one cotangent per input, with that input's shape (nil where
    ///     nothing flows).
    ///   - jvp: one tangent per input (nil for zero) → the output's tangent (nil for zero).
    ///   - batchedVJP, batchedJVP: the same for cotangents or tangents stacked along a new leading axis
    ///     (optional: without them, batched sweeps apply `vjp`/`jvp` to each in turn).
    func recorded(
        _ name: String, inputs: [Tensor], saving: [Tensor] = [], savingOutput: Bool = false,
        vjp: @escaping (_ cotangent: Tensor, _ saved: [Tensor]) -> [Tensor?],
        jvp: @escaping (_ tangents: [Tensor?], _ saved: [Tensor]) -> Tensor?,
        batchedVJP: ((_ cotangents: Tensor, _ saved: [Tensor]) -> [Tensor?])? = nil,
        batchedJVP: ((_ tangents: [Tensor?], _ saved: [Tensor]) -> Tensor?)? = nil
    ) -> Tensor {
        guard inputs.contains(where: { $0.isTracked }), recordingEnabled() else {
            return self
        }
        return recorded(
            name, inputs: inputs, saving: saving, savingOutput: savingOutput,
            rule: DerivativeRule(vjp: vjp, jvp: jvp, batchedVJP: batchedVJP, batchedJVP: batchedJVP))
    }

    /// Records a tensor primitive whose derivative rule is given as a value (see `DerivativeRule.Form`).
    func recorded(_ name: String, inputs: [Tensor], saving: [Tensor] = [], savingOutput: Bool = false, rule: DerivativeRule<Scalar>) -> Tensor {
        guard inputs.contains(where: { $0.isTracked }), recordingEnabled() else {
            return self
        }
        let anomalySite: String?
        if AnomalyDetection.isOn {
            AnomalyDetection.checkValue(self, of: name, inputs: inputs)
            anomalySite = AnomalyDetection.callSite()
        } else {
            anomalySite = nil
        }
        let tape = Tensor.tapeFor(inputs)
        let parents = inputs.map { $0.nodeOn(tape) }
        var savedValues = saving.map { $0.detached() }
        var savedNodes = saving.map { $0.nodeOn(tape) }
        let own = Int32(tape.nodeCount)
        if savingOutput {
            savedValues.append(self.detached())
            savedNodes.append(own)
        }
        var out = self.detached()
        out.tape = tape
        out.node = tape.appendRecord(
            TensorRecord(
                name: name, parents: parents, shape: shape,
                rule: rule,
                saved: savedValues, savedNodes: savedNodes, leafBox: nil, site: anomalySite))
        return out
    }


    /// This value attached to `node` of `tape` (a constant when `node` is -1).
    func attached(to tape: Tape<Scalar>, node: Int32) -> Tensor {
        guard node >= 0 else { return self }
        var t = self
        t.materializeDeferredValue()
        t.tape = tape
        t.node = node
        t.dropLeaf()
        return t
    }
}

extension GradientBox {
    /// The node this leaf already has on `tape`, so that several uses in one graph share one node.
    func cachedNode(on tape: Tape<Scalar>) -> Int32? {
        lockForCache()
        defer { unlockForCache() }
        return joinedTape === tape ? joinedNode : nil
    }

    func cache(node: Int32, on tape: Tape<Scalar>) {
        lockForCache()
        joinedTape = tape
        joinedNode = node
        unlockForCache()
    }
}
