import Foundation
// A loop as one primitive: `scan` carries a state through a sequence, as JAX's `lax.scan` does. Eagerly its body
// is traced once and replayed (a plain loop when the body reads values on the host); recorded, it is one node whose derivatives are scans too (so every transform and every order works);
// traced by `compiled`, its body is traced once and compiled into a program the loop replays, so a recurrence
// over thousands of steps costs one step's trace and compile.

/// Carries `initial` through the steps of `xs`: at step t, `body(carry, x_t, parameters)` returns the next
/// carry and the step's outputs. Returns the final carry and each output stacked along a new leading axis.
///
/// Every tensor of `xs` has the number of steps as its leading axis; `x_t` holds each one's slice at t. The
/// carry keeps its shapes from step to step. `parameters` are the same at every step (weights). The body must
/// receive every tensor it differentiates through in `initial`, `xs` or `parameters`; using a captured tracked
/// tensor instead stops with a message. The body is traced once and compiled, whatever the number of steps,
/// eagerly as inside `compiled` (as `lax.scan` does), so it must be a function of its arguments: side effects
/// in it happen once per call, not once per step. A body that reads a value on the host (`scalar`, a
/// comparison turned into a `Bool`) runs as a plain loop instead.
///
/// ```swift
/// // A running sum and its prefix sums.
/// let (total, prefix) = scan(initial: [Tensor<Double>(0)], over: [Tensor([1, 2, 3])]) { carry, x, _ in
///     let next = carry[0] + x[0]
///     return ([next], [next])
/// }
/// // total[0] == 6, prefix[0] == [1, 3, 6]
/// ```
///
/// - Parameters:
///   - initial: the carry before the first step.
///   - xs: the per-step inputs, each with the number of steps as its leading axis.
///   - parameters: tensors the body reads at every step (weights).
///   - length: the number of steps, needed only when `xs` is empty.
///   - body: one step: (carry, the step's slices of `xs`, `parameters`) to (next carry, the step's outputs).
public func scan<Scalar: TensorScalar>(
    initial: [Tensor<Scalar>], over xs: [Tensor<Scalar>], parameters: [Tensor<Scalar>] = [], length: Int? = nil,
    _ body: @escaping (_ carry: [Tensor<Scalar>], _ x: [Tensor<Scalar>], _ parameters: [Tensor<Scalar>])
        -> (carry: [Tensor<Scalar>], y: [Tensor<Scalar>])
) -> (carry: [Tensor<Scalar>], ys: [Tensor<Scalar>]) {
    for x in xs { precondition(x.rank >= 1, "scan: every tensor of xs needs a leading axis of steps, got shape \(x.shape)") }
    let steps = xs.first?.shape[0] ?? length ?? -1
    precondition(steps >= 0, "scan: with no xs, give the number of steps as length")
    for x in xs {
        precondition(x.shape[0] == steps, "scan: xs have \(steps) and \(x.shape[0]) steps (shapes \(xs.map(\.shape)))")
    }
    if let length { precondition(length == steps, "scan: length \(length) but xs have \(steps) steps") }
    let loop = ScanLoop(body: body, carryShapes: initial.map(\.shape), xShapes: xs.map { Array($0.shape.dropFirst()) },
                        parameterShapes: parameters.map(\.shape), steps: steps)
    return loop.apply(initial: initial, xs: xs, parameters: parameters)
}

/// One scan: its body and the shapes that stay the same at every step.
struct ScanLoop<Scalar: TensorScalar> {
    let body: ([Tensor<Scalar>], [Tensor<Scalar>], [Tensor<Scalar>]) -> (carry: [Tensor<Scalar>], y: [Tensor<Scalar>])
    let carryShapes: [[Int]]
    let xShapes: [[Int]]
    let parameterShapes: [[Int]]
    let steps: Int

    var carryCount: Int { carryShapes.count }
    var xCount: Int { xShapes.count }

    /// The scan of the given values: one recorded node (when an input is tracked) whose value packs the final
    /// carry and the stacked outputs, unpacked by recorded slices.
    func apply(initial: [Tensor<Scalar>], xs: [Tensor<Scalar>], parameters: [Tensor<Scalar>]) -> (carry: [Tensor<Scalar>], ys: [Tensor<Scalar>]) {
        let inputs = initial + xs + parameters
        let tracked = inputs.contains(where: \.isTracked) && recordingEnabled()
        // Whenever a tape might be recording, the first step checks that the body captures nothing tracked.
        let (packed, yShapes, residuals) = packedValue(inputs, checkingCaptures: recordingEnabled(), linearizing: tracked)
        let layout = ScanLayout(carryShapes: carryShapes, yShapes: yShapes, steps: steps)
        guard tracked else {
            let (carry, ys, _) = layout.unpackFinal(packed)
            return (carry, ys)
        }
        // The packed value also holds the carry before every step (its history), which the pullback reads
        // instead of running the loop again. When the step was linearised, the first-order pullback is its
        // reverse program run on the residuals (a pullback that is itself differentiated is a scan).
        let recorded = packed.recorded(
            "scan", inputs: inputs, saving: inputs, savingOutput: true,
            vjp: { g, saved in
                if let residuals, !recordingEnabled() || ThreadContext.current.sweepIsFirstOrder {
                    return self.linearPullback(g, saved, layout, residuals).map { Optional($0) }
                }
                return self.pullback(g, saved, layout).map { Optional($0) }
            },
            jvp: { tangents, saved in
                let filled = zip(tangents, saved).map { t, x in t ?? Tensor.zeros(shape: x.shape) }
                return self.tangent(filled, Array(saved.dropLast()), layout)
            })
        let (carry, ys, _) = layout.unpackFinal(recorded)
        return (carry, ys)
    }

    /// The packed value (final carry, then each output stacked, the history) and the outputs' shapes at one
    /// step: by a program compiled from one trace of the body (while tracing, or eagerly), or by a loop. With
    /// `linearizing`, the step and its pullback are compiled together when they can be, and the forward
    /// program also saves the residuals the reverse program reads.
    private func packedValue(_ inputs: [Tensor<Scalar>], checkingCaptures: Bool, linearizing: Bool)
        -> (Tensor<Scalar>, [[Int]], ScanResiduals<Scalar>?)
    {
        if let outer = Trace<Scalar>.current {
            return outsideEnclosingTransforms { tracedValue(inputs, outer: outer, linearizing: linearizing) }
        }
        return outsideEnclosingTransforms {
            if let value = compiledLoopValue(inputs, checkingCaptures: checkingCaptures, linearizing: linearizing) { return value }
            let (packed, yShapes) = loopValue(inputs, checkingCaptures: checkingCaptures)
            return (packed, yShapes, nil)
        }
    }

    /// The packed value by a program compiled from one trace of the body, replayed at every step (as
    /// `lax.scan` compiles its body even outside `jit`); programs are kept by the trace's structure, so a
    /// later scan of an equal body reuses its program. Nil, for the plain loop, when there are fewer than two
    /// steps or the body reads a traced value on the host (data-dependent control flow).
    private func compiledLoopValue(_ inputs: [Tensor<Scalar>], checkingCaptures: Bool, linearizing: Bool)
        -> (Tensor<Scalar>, [[Int]], ScanResiduals<Scalar>?)?
    {
        guard steps >= 2 else { return nil }
        let (carryCount, xCount) = (self.carryCount, self.xCount)
        let detached = inputs.map { $0.detached() }
        let xs = Array(detached[carryCount..<(carryCount + xCount)]), parameters = Array(detached[(carryCount + xCount)...])
        let initial = Array(detached[0..<carryCount])
        let sample = initial + xs.map { $0[0] } + parameters
        let sub = Trace<Scalar>(tentative: true)
        let arguments = sub.arguments(sample)
        let traceBody = {
            withTracing(sub) {
                self.body(Array(arguments[0..<carryCount]), Array(arguments[carryCount..<(carryCount + xCount)]),
                          Array(arguments[(carryCount + xCount)...]))
            }
        }
        // Recording stays on while tracing when a tape might be recording: nothing is recorded unless the body
        // uses a tracked tensor it was not given.
        let (next, y) = checkingCaptures ? withRecordingEnabled(traceBody) : withoutRecording(traceBody)
        precondition(
            !checkingCaptures || !(next + y).contains(where: \.isTracked),
            "scan: the body uses a tracked tensor that is not among its inputs; pass it in `parameters`")
        checkCarry(next)
        let outputs = (next + y).map { sub.node(of: $0) }
        sub.finish()
        guard !sub.readsOnHost else { return nil }
        let yShapes = y.map(\.shape)
        if linearizing, let linear = linearized(sample: sample, yShapes: yShapes, outer: nil) {
            let (packed, residuals) = linear.forwardValue(steps: steps, initial: initial, xs: xs, rest: parameters)
            return (packed, yShapes, ScanResiduals(linear: linear, operands: residuals, unpack: { $0 }))
        }
        let program = ProgramCache.loopBodies.compiled(for: sub, outputs: outputs, argumentCount: sub.argumentCount) {
            Program(graph: optimized(Graph(sub, outputs: outputs, argumentCount: sub.argumentCount)))
        }
        let layout = ScanLayout(carryShapes: carryShapes, yShapes: yShapes, steps: steps)
        let (carry, ys, history) = program.loop(steps: steps, initial: initial, xs: xs, rest: parameters)
        return (withoutRecording { layout.packFinal(carry + ys + history) }, yShapes, nil)
    }

    /// The packed value by a loop over untracked values.
    private func loopValue(_ inputs: [Tensor<Scalar>], checkingCaptures: Bool) -> (Tensor<Scalar>, [[Int]]) {
        let detached = inputs.map { $0.detached() }
        var carry = Array(detached[0..<carryCount])
        let xs = Array(detached[carryCount..<(carryCount + xCount)]), parameters = Array(detached[(carryCount + xCount)...])
        var ys: [[Tensor<Scalar>]] = []
        var history: [[Tensor<Scalar>]] = []
        for t in 0..<steps {
            history.append(carry)
            let x = xs.map { $0[t] }
            let (next, y): ([Tensor<Scalar>], [Tensor<Scalar>])
            if t == 0 && checkingCaptures {
                // Recording stays on for the first step: nothing is recorded unless the body uses a tracked
                // tensor it was not given.
                (next, y) = withRecordingEnabled { body(carry, x, parameters) }
                precondition(
                    !(next + y).contains(where: \.isTracked),
                    "scan: the body uses a tracked tensor that is not among its inputs; pass it in `parameters`")
            } else {
                (next, y) = withoutRecording { body(carry, x, parameters) }
            }
            checkCarry(next)
            carry = next.map { $0.detached() }
            ys.append(y.map { $0.detached() })
        }
        let yShapes = ys.first.map { $0.map(\.shape) } ?? firstStepShapes(carry: carry, xs: xs, parameters: parameters)
        let stacked = yShapes.indices.map { j in
            steps == 0 ? Tensor<Scalar>.zeros(shape: [0] + yShapes[j]) : withoutRecording { Tensor(stacking: ys.map { $0[j] }) }
        }
        let carries = carryShapes.indices.map { i in
            steps == 0 ? Tensor<Scalar>.zeros(shape: [0] + carryShapes[i]) : withoutRecording { Tensor(stacking: history.map { $0[i] }) }
        }
        return (withoutRecording { pack(carry + stacked + carries) }, yShapes)
    }

    /// The outputs' shapes of a scan of no steps: the body is evaluated once on zeros (nothing is returned from it).
    private func firstStepShapes(carry: [Tensor<Scalar>], xs: [Tensor<Scalar>], parameters: [Tensor<Scalar>]) -> [[Int]] {
        let x = xShapes.map { Tensor<Scalar>.zeros(shape: $0) }
        return withoutRecording { body(carry, x, parameters).y.map(\.shape) }
    }

    private func checkCarry(_ carry: [Tensor<Scalar>]) {
        precondition(
            carry.map(\.shape) == carryShapes,
            "scan: the body returned a carry of shapes \(carry.map(\.shape)) for one of shapes \(carryShapes)")
    }

    /// While tracing: the body traced once (its arguments a carry, one step of each x and the parameters; the
    /// enclosing trace's values it reads become arguments too), compiled, and the loop one node of the
    /// enclosing trace that replays the program at every step.
    private func tracedValue(_ inputs: [Tensor<Scalar>], outer: Trace<Scalar>, linearizing: Bool)
        -> (Tensor<Scalar>, [[Int]], ScanResiduals<Scalar>?)
    {
        let (carryCount, xCount, steps) = (self.carryCount, self.xCount, self.steps)
        let sub = Trace<Scalar>(parent: outer)
        let first = inputs[0..<carryCount].map { $0.untraced().detached() }
            + inputs[carryCount..<(carryCount + xCount)].map { steps > 0 ? $0.untraced().detached()[0] : Tensor.zeros(shape: Array($0.shape.dropFirst())) }
            + inputs[(carryCount + xCount)...].map { $0.untraced().detached() }
        let arguments = sub.arguments(first)
        let (next, y) = withTracing(sub) {
            body(Array(arguments[0..<carryCount]), Array(arguments[carryCount..<(carryCount + xCount)]),
                 Array(arguments[(carryCount + xCount)...]))
        }
        checkCarry(next)
        let outputs = (next + y).map { sub.node(of: $0) }
        sub.finish()
        let yShapes = y.map(\.shape)
        let graph = optimized(Graph(sub, outputs: outputs, argumentCount: sub.argumentCount + sub.captured.count))
        let program = Program(graph: graph)
        if BackpropSettings.current.printsCompiledPrograms {
            print("scan body: trace \(sub.nodes.count) nodes, optimized \(graph.nodes.count), kernels \(program.kernelCount), instructions \(program.instructionCount), steps \(program.steps.count)")
        }
        if linearizing, steps > 0, let linear = linearized(sample: first, yShapes: yShapes, outer: outer) {
            // One node computes the packed value and the residuals after it; the scan's value is a slice of it
            // (a view in the program) and the pullback's node reads the residuals from the whole.
            let replay: ([Tensor<Scalar>]) -> Tensor<Scalar> = { all in
                let (packed, residuals) = linear.forwardValue(
                    steps: steps, initial: Array(all[0..<carryCount]), xs: Array(all[carryCount..<(carryCount + xCount)]),
                    rest: Array(all[(carryCount + xCount)...]))
                return withoutRecording { pack([packed] + residuals) }
            }
            let operands = inputs + linear.captured
            let whole = replay(operands.map { $0.untraced().detached() }).traced(.opaque("scan"), operands, replay: replay)
            if linear.step.residualShapes.isEmpty { return (whole, yShapes, ScanResiduals(linear: linear, operands: []) { _ in [] }) }
            let mainCount = ScanLayout(carryShapes: carryShapes, yShapes: yShapes, steps: steps).finalShapes.reduce(0) { $0 + $1.reduce(1, *) }
            let parts = ShapesLayout(shapes: [[mainCount]] + linear.step.residualShapes.map { [steps] + $0 })
            let residuals = ScanResiduals(linear: linear, operands: [whole]) { parts.unpack($0[0], parts: 1..<parts.shapes.count) }
            return (whole.slicing(0..<mainCount), yShapes, residuals)
        }
        let captured = sub.captured
        let layout = ScanLayout(carryShapes: carryShapes, yShapes: yShapes, steps: steps)
        let replay: ([Tensor<Scalar>]) -> Tensor<Scalar> = { all in
            let (carry, ys, history) = program.loop(
                steps: steps, initial: Array(all[0..<carryCount]), xs: Array(all[carryCount..<(carryCount + xCount)]),
                rest: Array(all[(carryCount + xCount)...]))
            return withoutRecording { layout.packFinal(carry + ys + history) }
        }
        let operands = inputs + captured
        let value = replay(operands.map { $0.untraced().detached() })
        return (value.traced(.opaque("scan"), operands, replay: replay), yShapes, nil)
    }

    /// The cotangents of the inputs (initial carry, xs, parameters) for the packed output's cotangent `g`: a
    /// reverse scan of the body's pullbacks at the carries the forward loop saved (the packed output's history),
    /// accumulating the parameters' cotangents in its carry.
    private func pullback(_ g: Tensor<Scalar>, _ saved: [Tensor<Scalar>], _ layout: ScanLayout) -> [Tensor<Scalar>] {
        let (nc, nx) = (carryCount, xCount)
        let xs = Array(saved[nc..<(nc + nx)]), parameters = Array(saved[(nc + nx)..<(saved.count - 1)])
        let history = layout.unpackFinal(saved[saved.count - 1]).history
        let unpacked = layout.unpackFinal(g)
        let body = self.body
        let reversed = Array((0..<steps).reversed())
        func reverse(_ t: Tensor<Scalar>) -> Tensor<Scalar> { steps <= 1 ? t : t.gathering(atIndices: reversed, alongAxis: 0) }
        let ny = layout.yShapes.count
        let zeros = parameters.map { Tensor<Scalar>.zeros(shape: $0.shape) }
        let (accumulated, xCotangents) = scan(
            initial: unpacked.carry + zeros, over: (history + xs + unpacked.ys + unpacked.history).map(reverse),
            parameters: parameters, length: steps
        ) { acc, step, p in
            let gc = Array(acc[0..<nc]), gp = Array(acc[nc...])
            let c = Array(step[0..<nc]), x = Array(step[nc..<(nc + nx)])
            let gy = Array(step[(nc + nx)..<(nc + nx + ny)]), gHistory = Array(step[(nc + nx + ny)...])
            // The pullback of the step at (gc, gy): the gradient of ⟨outputs, (gc, gy)⟩, which needs no packing
            // of the outputs or the cotangents into one vector.
            let seeds = gc + gy
            let grads = gradient(at: c + x + p) { a in
                let (next, y) = body(Array(a[0..<nc]), Array(a[nc..<(nc + nx)]), Array(a[(nc + nx)...]))
                return zip(next + y, seeds).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
            }
            // The carry before this step was also an output (the history): its cotangent adds in.
            let carry = zip(grads[0..<nc], gHistory).map { $0 + $1 }
            return (carry + zip(gp, grads[(nc + nx)...]).map { $0 + $1 }, Array(grads[nc..<(nc + nx)]))
        }
        return Array(accumulated[0..<nc]) + xCotangents.map(reverse) + Array(accumulated[nc...])
    }

    /// The packed output's tangent for tangents of the inputs: a scan carrying the carry and its tangent.
    private func tangent(_ tangents: [Tensor<Scalar>], _ saved: [Tensor<Scalar>], _ layout: ScanLayout) -> Tensor<Scalar> {
        let (nc, nx) = (carryCount, xCount)
        let np = saved.count - nc - nx
        let body = self.body
        let stepLayout = layout.step
        let (carry, ys) = scan(
            initial: Array(saved[0..<nc]) + Array(tangents[0..<nc]),
            over: Array(saved[nc..<(nc + nx)]) + Array(tangents[nc..<(nc + nx)]),
            parameters: Array(saved[(nc + nx)...]) + Array(tangents[(nc + nx)...]), length: steps
        ) { ct, xt, pt in
            let at = Array(ct[0..<nc]) + Array(xt[0..<nx]) + Array(pt[0..<np])
            let along = Array(ct[nc...]) + Array(xt[nx...]) + Array(pt[np...])
            let (value, tangent) = valueWithJVP(at: at, along: along) { a in
                let (next, y) = body(Array(a[0..<nc]), Array(a[nc..<(nc + nx)]), Array(a[(nc + nx)...]))
                return stepLayout.pack(next + y)
            }
            let (v, dv) = (stepLayout.unpack(value), stepLayout.unpack(tangent))
            // The outputs: the step's outputs, their tangents, and the tangent of the carry before the step.
            return (Array(v[0..<nc]) + Array(dv[0..<nc]), Array(v[nc...]) + Array(dv[nc...]) + Array(ct[nc...]))
        }
        let ny = layout.yShapes.count
        return layout.packFinal(Array(carry[nc...]) + Array(ys[ny..<(2 * ny)]) + Array(ys[(2 * ny)...]))
    }
}

/// How a scan's results are packed into one tensor: the final carry's tensors, then each output stacked over
/// the steps, and the carry before each step, each flattened, one after another.
struct ScanLayout {
    let carryShapes: [[Int]]
    let yShapes: [[Int]]
    let steps: Int

    /// The shapes of the packed parts: the final carry, the outputs stacked, the carries before each step.
    var finalShapes: [[Int]] { carryShapes + yShapes.map { [steps] + $0 } + carryShapes.map { [steps] + $0 } }

    /// The layout of one step's results (carry and outputs, unstacked).
    var step: ShapesLayout { ShapesLayout(shapes: carryShapes + yShapes) }

    func packFinal<Scalar>(_ parts: [Tensor<Scalar>]) -> Tensor<Scalar> { ShapesLayout(shapes: finalShapes).pack(parts) }

    func unpackFinal<Scalar>(_ packed: Tensor<Scalar>) -> (carry: [Tensor<Scalar>], ys: [Tensor<Scalar>], history: [Tensor<Scalar>]) {
        let parts = ShapesLayout(shapes: finalShapes).unpack(packed)
        let (nc, ny) = (carryShapes.count, yShapes.count)
        return (Array(parts[0..<nc]), Array(parts[nc..<(nc + ny)]), Array(parts[(nc + ny)...]))
    }
}

/// Tensors of given shapes packed into one vector, and back, by differentiable reshapes, concatenation and
/// slices.
struct ShapesLayout {
    let shapes: [[Int]]

    func pack<Scalar>(_ parts: [Tensor<Scalar>]) -> Tensor<Scalar> {
        let flat = parts.map { $0.reshaped(to: [$0.scalarCount]) }
        if flat.isEmpty { return Tensor.zeros(shape: [0]) }
        return flat.count == 1 ? flat[0] : Tensor(concatenating: flat)
    }

    func unpack<Scalar>(_ packed: Tensor<Scalar>) -> [Tensor<Scalar>] { unpack(packed, parts: shapes.indices) }

    /// The parts in `parts` only (the others are not sliced).
    func unpack<Scalar>(_ packed: Tensor<Scalar>, parts: Range<Int>) -> [Tensor<Scalar>] {
        var offset = shapes[..<parts.lowerBound].reduce(0) { $0 + $1.reduce(1, *) }
        return shapes[parts].map { shape in
            let count = shape.reduce(1, *)
            defer { offset += count }
            let part = shapes.count == 1 ? packed : packed.slicing(offset..<(offset + count))
            return part.reshaped(to: shape)
        }
    }
}

/// Packs tensors into one flat vector (the layout `ShapesLayout` reads back).
func pack<Scalar>(_ parts: [Tensor<Scalar>]) -> Tensor<Scalar> {
    ShapesLayout(shapes: parts.map(\.shape)).pack(parts)
}
