import Foundation
// A compiled program: what `compiled` replays for one list of input shapes.

/// The program for one list of input shapes: the steps replayed on every call.
final class CompiledProgram<Scalar: TensorScalar>: @unchecked Sendable {
    /// The optimised graph.
    let graph: Graph<Scalar>
    /// The lowered program.
    let program: Program<Scalar>

    /// `stateCount`: the first arguments are state that the first outputs update (see `Program.donations`).
    init(graph: Graph<Scalar>, stateCount: Int = 0) {
        self.graph = graph
        program = Program(graph: graph, heapValues: true, stateCount: stateCount)
    }

    /// Traces `f` at `arguments` and compiles the trace; returns the program, with the random streams the
    /// trace drew from put back to their states before it (so the program's run draws what the trace drew).
    static func trace(
        _ f: ([Tensor<Scalar>]) -> [Tensor<Scalar>], at arguments: [Tensor<Scalar>], stateCount: Int = 0
    ) -> CompiledProgram {
        let trace = Trace<Scalar>()
        let traced = trace.arguments(arguments)
        let outputs = withTracing(trace) { f(traced) }
        let outputNodes = outputs.map { trace.node(of: $0) }
        trace.finish()
        for (stream, before) in trace.streamsDrawnFrom { stream.generator = before }
        let clock = ContinuousClock()
        let t0 = clock.now
        let graph = optimized(Graph(trace, outputs: outputNodes, argumentCount: arguments.count))
        let t1 = clock.now
        let program = CompiledProgram(graph: graph, stateCount: stateCount)
        let t2 = clock.now
        if BackpropSettings.current.printsCompiledPrograms {
            var kinds: [String: Int] = [:]
            for n in graph.nodes { kinds["\(n.kind)".prefix(while: { $0 != "[" && $0 != "(" }).description, default: 0] += 1 }
            var stepKinds: [String: Int] = [:]
            let instructions = program.program.instructionCount
            stepKinds["kernels"] = program.program.kernelCount
            for step in program.program.steps {
                switch step {
                case .sequence: stepKinds["sequence", default: 0] += 1
                case .parallel: stepKinds["parallel", default: 0] += 1
                case .matmul: stepKinds["matmul", default: 0] += 1
                case .opaque(let o): stepKinds["opaque " + o.name, default: 0] += 1
                }
            }
            for step in program.program.steps { print("  " + program.program.describe(step)) }
            print("compile: trace \(trace.nodes.count) nodes, optimized \(graph.nodes.count) \(kinds.sorted { $0.value > $1.value }.prefix(12)); steps \(stepKinds) instructions \(instructions); state updated in place \(program.program.donations.count) of \(stateCount); passes \(t1 - t0), lowering \(t2 - t1); arena \(program.program.arenaSize)")
        }
        return program
    }

    /// Runs the program on untracked arguments of the shapes it was compiled for.
    func run(_ arguments: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        program.run(arguments)
    }

    /// Runs the program on untracked state and inputs, writing each new state tensor into the old one's memory
    /// where the program allows it (`Program.donations`) and `state` owns it alone (else into new memory, so a
    /// copy the caller kept elsewhere keeps its values); returns the outputs after the state's.
    func run(updating state: inout [Tensor<Scalar>], _ inputs: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        var donated: [Int: Tensor<Scalar>] = [:]
        for (argument, slot) in program.donations where !state[argument].shape.isEmpty {
            // Copy-on-write: the storage becomes `state`'s own, copied only when someone else holds it too.
            state[argument].storage.withUnsafeMutableBufferPointer { _ in }
            donated[slot] = Tensor(shape: [state[argument].scalarCount], buffer: state[argument].storage)
        }
        let results = program.run(state + inputs, donated: donated)
        state = Array(results[..<state.count])
        return Array(results[state.count...])
    }

    /// Evaluates the graph node by node with each primitive's replay, freeing values after their last use
    /// (the reference the compiled program is tested against).
    func interpret(_ arguments: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        var values = [Tensor<Scalar>?](repeating: nil, count: graph.nodes.count)
        let last = graph.lastUses()
        withoutRecording {
            for (i, node) in graph.nodes.enumerated() where last[i] >= 0 {
                switch node.kind {
                case .argument(let k): values[i] = arguments[k]
                case .constant: values[i] = node.constant!
                default:
                    let inputs = node.inputs.map { values[Int($0)]! }
                    values[i] = node.replay!(inputs)
                }
                for input in node.inputs where last[Int(input)] == i { values[Int(input)] = nil }
            }
        }
        return graph.outputs.map { values[Int($0)]! }
    }
}

/// The graph after the compiler's passes.
func optimized<Scalar>(_ graph: Graph<Scalar>) -> Graph<Scalar> {
    graph.withoutDeadCode().simplified().withoutDeadCode().withPadSumsAsConcatenations().withReLUMasksBeforeScatters()
        .withoutDeadCode()
}
