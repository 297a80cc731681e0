/// One transform's share of a tape: where its inputs were recorded and whether it is nested inside another
/// transform.
///
/// Every transform (gradient, pullback, JVP, Jacobian, Hessian) opens a level: it records a fresh `input`
/// node for each argument and evaluates the function on those nodes. At the top level the tape is new; inside
/// another transform's function the level reuses that transform's tape and each input node has the
/// argument's own node as its parent, so the outer transform sees through it. A level's sweeps cover only
/// the nodes from its first input on, so its perturbations never mix with an outer level's: d/dx [x · d/dy
/// (x + y)] is 1 because the inner sweep seeds y alone and stops at y's node. When nested, the level's sweeps
/// are recorded, so its results are tracked functions of the outer level's inputs.
struct DifferentiationLevel<Scalar: TensorScalar> {
    /// The tape the level records on.
    let tape: Tape<Scalar>
    /// Whether `tape` belongs to an enclosing transform.
    let isNested: Bool
    /// The level's first node.
    let start: Int
    /// The arguments as the function sees them: tracked on `tape`.
    let inputs: [Tensor<Scalar>]

    /// Opens a level for `arguments`.
    init(arguments: [Tensor<Scalar>]) {
        let outer = innermostTransformTape(Scalar.self)
        tape = outer ?? Tape(accumulatesIntoLeaves: false)
        isNested = outer != nil
        start = tape.nodeCount
        let tape = self.tape, nested = isNested
        inputs = arguments.map { argument in
            let parent = nested ? argument.nodeOn(tape) : -1
            var input = argument.detached()
            input.tape = tape
            input.node = tape.appendRecord(
                TensorRecord(
                    name: "input", parents: parent >= 0 ? [parent] : [], shape: argument.shape,
                    rule: parent >= 0 ? .identity : nil))
            return input
        }
    }

    /// Evaluates `f` on the level's inputs with the tape current and recording on.
    func evaluate<R>(_ f: ([Tensor<Scalar>]) throws -> R) rethrows -> R {
        try withCurrentTape(tape) { try withRecordingEnabled { try f(inputs) } }
    }

    /// Whether `y` depends on the level's inputs (it is a node of this level).
    func dependsOnInputs(_ y: Tensor<Scalar>) -> Bool {
        y.tape === tape && !tape.isReleased && Int(y.node) >= start
    }

    /// A result handed back to the caller: tracked when nested (the enclosing transform differentiates
    /// through it), a constant otherwise.
    func exported(_ t: Tensor<Scalar>) -> Tensor<Scalar> { isNested ? t : t.detached() }

    /// The cotangents of the level's inputs for the output `y` seeded with `seed`, by one reverse sweep.
    /// Recorded (differentiable) when nested or when `seed` is itself tracked on the tape.
    func pullback(of y: Tensor<Scalar>, seed: Tensor<Scalar>) -> [Tensor<Scalar>] {
        guard dependsOnInputs(y) else { return inputs.map { Tensor.zeros(shape: $0.shape) } }
        // Inside a trace the sweep records: its steps must be primitives the trace sees, never the first-order
        // sweep's scalar arithmetic on the host.
        if isNested || seed.tape === tape || isTracing {
            let context = ThreadContext.current
            let wasFirstOrder = context.sweepIsFirstOrder
            context.sweepIsFirstOrder = !isNested && seed.tape !== tape
            defer { context.sweepIsFirstOrder = wasFirstOrder }
            let gradients = tape.recordingSweep(from: y.node, seed: seed, downTo: start)
            return inputs.map { input in
                let g = gradients[Int(input.node) - start] ?? Tensor.zeros(shape: input.shape)
                return exported(g.shape == input.shape ? g : g.reshaped(to: input.shape))
            }
        }
        let sweep = tape.sweep(from: y.node, seed: seed.detached(), downTo: start)
        return inputs.map { tape.gradient(in: sweep, at: $0.node, shape: $0.shape) }
    }

    /// The tangent of the output `y` for tangents `directions` of the level's inputs, by one forward sweep.
    func tangent(of y: Tensor<Scalar>, along directions: [Tensor<Scalar>]) -> Tensor<Scalar> {
        tangents(of: [y], along: directions)[0]
    }

    /// The tangents of several outputs for tangents `directions` of the level's inputs, by one forward
    /// sweep. Recorded (differentiable) when nested or when a direction is itself tracked on the tape.
    func tangents(of ys: [Tensor<Scalar>], along directions: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        let dependent = ys.filter(dependsOnInputs)
        var seeds: [Int32: Tensor<Scalar>] = [:]
        for (input, direction) in zip(inputs, directions) { seeds[input.node] = direction }
        let recording = isNested || directions.contains { $0.tape === tape } || isTracing
        let swept = tape.forwardSweep(from: start, outputs: dependent.map(\.node), seeds: seeds, recording: recording)
        var byNode: [Int32: Tensor<Scalar>] = [:]
        for (y, t) in zip(dependent, swept) { if let t { byNode[y.node] = t } }
        return ys.map { y in
            guard dependsOnInputs(y), let t = byNode[y.node] else { return Tensor.zeros(shape: y.shape) }
            return exported(t)
        }
    }

    /// Ends the level: a top-level tape is released (its memory returns to the thread's cache).
    func close() {
        if !isNested { tape.release() }
    }
}
