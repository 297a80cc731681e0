/// How primitives record themselves on a tape.
///
/// A primitive computes its value without looking at tracking, then calls one of these helpers with its
/// local derivatives (scalar case) or its pullback (tensor case). If no input is tracked, or recording is
/// switched off, nothing is recorded and the result is a constant.
extension Tensor {
    /// Whether this tensor is on a live tape or requires a gradient.
    @inlinable
    public var isTracked: Bool {
        if let tape, !tape.isReleased { return true }
        return leaf != nil
    }

    /// A copy that is not tracked: gradients do not flow through it.
    public func detached() -> Tensor {
        var copy = self
        copy.tape = nil
        copy.node = -1
        copy.leaf = nil
        return copy
    }

    /// Chooses the tape for an operation on tracked inputs.
    @inlinable
    static func tapeFor(_ a: Tensor, _ b: Tensor?) -> Tape<Scalar> {
        let ta = a.tape.flatMap { $0.isReleased ? nil : $0 }
        let tb = b?.tape.flatMap { $0.isReleased ? nil : $0 }
        if let ta {
            if let tb, ta !== tb { mixedTapes() }
            return ta
        }
        return tb ?? currentTape()
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
    @inlinable
    func nodeOn(_ tape: Tape<Scalar>) -> Int32 {
        if let t = self.tape, t === tape { return node }
        return leaf == nil ? -1 : leafNode(on: tape)
    }

    /// The node of this leaf on `tape`, joining it if needed.
    @usableFromInline
    func leafNode(on tape: Tape<Scalar>) -> Int32 {
        guard let box = leaf else { return -1 }
        if let cached = box.cachedNode(on: tape) { return cached }
        let node = tape.appendRecord(
            TensorRecord(name: "leaf", parents: [], shape: shape, pullback: nil, leafBox: box))
        box.cache(node: node, on: tape)
        return node
    }

    /// Records a scalar primitive with one input: `self` is the output value, `input` the argument and
    /// `partial` = ∂output/∂input.
    @inlinable
    func recordedUnary(_ input: Tensor, partial: Scalar) -> Tensor {
        guard input.isTracked, recordingEnabled() else { return self }
        let tape = Tensor.tapeFor(input, nil)
        var out = self
        out.tape = tape
        out.node = tape.appendScalar(input.nodeOn(tape), partial, -1, 0)
        return out
    }

    /// Records a scalar primitive with two inputs and their local partial derivatives.
    @inlinable
    func recordedBinary(_ a: Tensor, _ da: Scalar, _ b: Tensor, _ db: Scalar) -> Tensor {
        guard a.isTracked || b.isTracked, recordingEnabled() else { return self }
        let tape = Tensor.tapeFor(a, b)
        var out = self
        out.tape = tape
        out.node = tape.appendScalar(a.nodeOn(tape), da, b.nodeOn(tape), db)
        return out
    }

    /// Records a tensor primitive: `self` is the output value; `pullback` maps the output's cotangent
    /// to one cotangent per input, each with that input's shape (nil where nothing flows).
    func recorded(
        _ name: String, inputs: [Tensor], pullback: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        guard inputs.contains(where: { $0.isTracked }), recordingEnabled() else {
            return self
        }
        let tape = Tensor.tapeFor(inputs)
        var out = self.detached()
        out.tape = tape
        out.node = tape.appendRecord(
            TensorRecord(
                name: name, parents: inputs.map { $0.nodeOn(tape) }, shape: shape, pullback: pullback, leafBox: nil))
        return out
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
