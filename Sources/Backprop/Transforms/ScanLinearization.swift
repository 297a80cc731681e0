// A scan's step linearised, as JAX differentiates `lax.scan`: the step and its pullback are traced together
// once and split at the cotangents (Compiler/GraphSplit.swift). The forward loop runs the part that needs no
// cotangent; the reverse loop runs the rest, computing again the cheap forward values it reads from the carry
// before the step and the step's x, and reading the others (random draws, matrix products) from residuals the
// forward loop saved, so a dropout mask is the same in both sweeps.

/// The two programs of a linearised scan step.
final class LinearizedScanPrograms<Scalar: TensorScalar>: @unchecked Sendable {
    /// (carry, x, parameters and captured values) → (next carry, outputs, residuals).
    let forward: Program<Scalar>
    /// (carry cotangent, parameters' cotangents so far; output cotangents, history cotangent, carry before the
    /// step, x, residuals; parameters and captured values) → (carry cotangent before the step, parameters'
    /// cotangents, x cotangents).
    let reverse: Program<Scalar>
    /// The shape of each residual at one step.
    let residualShapes: [[Int]]

    init(forward: Program<Scalar>, reverse: Program<Scalar>, residualShapes: [[Int]]) {
        self.forward = forward
        self.reverse = reverse
        self.residualShapes = residualShapes
    }

    /// The programs, or none when the step could not be split (kept in the cache either way).
    final class Outcome: @unchecked Sendable {
        let programs: LinearizedScanPrograms?
        init(_ programs: LinearizedScanPrograms?) { self.programs = programs }
    }
}

/// What a scan that was linearised keeps for its pullback.
struct LinearizedScan<Scalar: TensorScalar> {
    let step: LinearizedScanPrograms<Scalar>
    /// Values of enclosing traces the step reads (arguments after the parameters in both programs).
    let captured: [Tensor<Scalar>]
    let carryShapes: [[Int]]
    let yShapes: [[Int]]

    /// The packed value of the scan (final carry, outputs, history) and the stacked residuals, by the forward
    /// program.
    func forwardValue(steps: Int, initial: [Tensor<Scalar>], xs: [Tensor<Scalar>], rest: [Tensor<Scalar>])
        -> (packed: Tensor<Scalar>, residuals: [Tensor<Scalar>])
    {
        let (carry, outputs, history) = step.forward.loop(steps: steps, initial: initial, xs: xs, rest: rest)
        let ny = yShapes.count
        return (withoutRecording { pack(carry + Array(outputs[0..<ny]) + history) }, Array(outputs[ny...]))
    }
}

/// A linearised scan's residuals as its pullback receives them.
struct ScanResiduals<Scalar: TensorScalar> {
    let linear: LinearizedScan<Scalar>
    /// What the pullback takes as operands: the stacked residuals (eagerly), or, while tracing, the node whose
    /// value holds them.
    let operands: [Tensor<Scalar>]
    /// The stacked residuals from the operands' values.
    let unpack: ([Tensor<Scalar>]) -> [Tensor<Scalar>]
}

extension ScanLoop {
    /// The step and its pullback traced once (on the values `sample`: carry, one step of each x, parameters)
    /// and split into a forward and a reverse program; nil when the body reads a traced value on the host.
    func linearized(sample: [Tensor<Scalar>], yShapes: [[Int]], outer: Trace<Scalar>?) -> LinearizedScan<Scalar>? {
        let (nc, nx, np, ny) = (carryCount, xCount, parameterShapes.count, yShapes.count)
        let trace = Trace<Scalar>(parent: outer, tentative: outer == nil)
        // The cotangents' values do not matter for the trace.
        let seeds = (carryShapes + parameterShapes + yShapes + carryShapes).map { Tensor<Scalar>.ones(shape: $0) }
        let a = trace.arguments(sample + seeds)
        let c = Array(a[0..<nc]), x = Array(a[nc..<(nc + nx)]), p = Array(a[(nc + nx)..<(nc + nx + np)])
        let gc = Array(a[(nc + nx + np)..<(2 * nc + nx + np)]), gp = Array(a[(2 * nc + nx + np)..<(2 * nc + nx + 2 * np)])
        let gy = Array(a[(2 * nc + nx + 2 * np)..<(2 * nc + nx + 2 * np + ny)]), gh = Array(a[(2 * nc + nx + 2 * np + ny)...])
        let body = self.body
        let outputs: [Tensor<Scalar>] = withTracing(trace) {
            withoutRecording {
                // The pullback of the step at (gc, gy): the gradient of ⟨outputs, (gc, gy)⟩. The outputs come from
                // the same evaluation of the body (one evaluation: one set of random draws).
                var stepOutputs: [Tensor<Scalar>] = []
                let grads = gradient(at: c + x + p) { v in
                    let (next, y) = body(Array(v[0..<nc]), Array(v[nc..<(nc + nx)]), Array(v[(nc + nx)...]))
                    stepOutputs = (next + y).map { $0.detached() }
                    return zip(next + y, gc + gy).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
                }
                // The carry before the step was an output too (the history): its cotangent adds in.
                return stepOutputs + zip(grads[0..<nc], gh).map { $0 + $1 } + zip(gp, grads[(nc + nx)...]).map { $0 + $1 }
                    + Array(grads[nc..<(nc + nx)])
            }
        }
        let nodes = outputs.map { trace.node(of: $0) }
        trace.finish()
        if trace.readsOnHost { return nil }
        let captured = trace.captured
        let argumentCount = trace.argumentCount + captured.count
        // Where each argument goes. The reverse program's carry is the cotangents accumulated (carry's,
        // parameters'), its xs the output and history cotangents, the carry before the step (the history) and
        // the x of the step, then the residuals; parameters and captured values go to both programs.
        let cotangentCount = 2 * nc + np + ny, lateCount = 3 * nc + np + ny + nx
        var roles: [GraphSplit<Scalar>.Role] = (0..<nc).map { .early($0, late: cotangentCount + $0) }
        roles += (0..<nx).map { .early(nc + $0, late: cotangentCount + nc + $0) }
        roles += (0..<np).map { .shared(early: nc + nx + $0, late: $0) }
        roles += (0..<cotangentCount).map { .late($0) }
        roles += (0..<captured.count).map { .shared(early: nc + nx + np + $0, late: np + $0) }
        let cached = ProgramCache.loopBodies.compiled(for: trace, outputs: nodes, argumentCount: argumentCount) {
            () -> LinearizedScanPrograms<Scalar>.Outcome in
            let graph = optimized(Graph(trace, outputs: nodes, argumentCount: argumentCount))
            guard let split = GraphSplit(graph, roles: roles, earlyOutputCount: nc + ny, lateArgumentCount: lateCount) else {
                return .init(nil)
            }
            let made = LinearizedScanPrograms(
                forward: Program(graph: optimized(split.early)), reverse: Program(graph: optimized(split.late)),
                residualShapes: split.residualShapes)
            if BackpropSettings.current.printsCompiledPrograms {
                print("scan step linearised: trace \(trace.nodes.count) nodes, forward kernels \(made.forward.kernelCount) instructions \(made.forward.instructionCount), reverse kernels \(made.reverse.kernelCount) instructions \(made.reverse.instructionCount), residuals \(split.residualShapes.count)")
            }
            return .init(made)
        }
        guard let programs = cached.programs else { return nil }
        return LinearizedScan(step: programs, captured: captured, carryShapes: carryShapes, yShapes: yShapes)
    }

    /// The first-order pullback of a linearised scan: the reverse program run from the last step to the first
    /// on the residuals the forward loop saved. One node of the enclosing trace while tracing.
    func linearPullback(_ g: Tensor<Scalar>, _ saved: [Tensor<Scalar>], _ layout: ScanLayout, _ residuals: ScanResiduals<Scalar>) -> [Tensor<Scalar>] {
        let (nc, nx) = (carryCount, xCount)
        let parameterCount = saved.count - 1 - nc - nx
        let steps = self.steps, parameterShapes = self.parameterShapes
        let cotangentLayout = ShapesLayout(shapes: carryShapes + xShapes.map { [steps] + $0 } + parameterShapes)
        let reverse = residuals.linear.step.reverse
        let residualCount = residuals.operands.count, unpackResiduals = residuals.unpack
        // Operands: the packed output's cotangent, the packed output (for the history), the xs, the residuals'
        // operands, the parameters, the captured values.
        let run: ([Tensor<Scalar>]) -> Tensor<Scalar> = { all in
            withoutRecording {
                let (gCarry, gYs, gHistory) = layout.unpackFinal(all[0])
                let history = layout.unpackFinal(all[1]).history
                let xs = Array(all[2..<(2 + nx)])
                let residuals = unpackResiduals(Array(all[(2 + nx)..<(2 + nx + residualCount)]))
                let rest = Array(all[(2 + nx + residualCount)...])
                let zeros = parameterShapes.map { Tensor<Scalar>.zeros(shape: $0) }
                let (accumulated, xCotangents, _) = reverse.loop(
                    steps: steps, initial: gCarry + zeros, xs: gYs + gHistory + history + xs + residuals, rest: rest,
                    reversed: true, keepsHistory: false)
                return cotangentLayout.pack(Array(accumulated[0..<nc]) + xCotangents + Array(accumulated[nc...]))
            }
        }
        let operands = [g, saved[saved.count - 1]] + Array(saved[nc..<(nc + nx)]) + residuals.operands
            + Array(saved[(nc + nx)..<(nc + nx + parameterCount)]) + residuals.linear.captured
        let packed: Tensor<Scalar>
        if isTracing {
            packed = run(operands.map { $0.untraced().detached() }).traced(.opaque("scan pullback"), operands, replay: run)
        } else {
            packed = run(operands)
        }
        return cotangentLayout.unpack(packed)
    }
}
