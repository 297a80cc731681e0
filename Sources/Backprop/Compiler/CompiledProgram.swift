import Foundation
// A compiled program: what `compiled` replays for one list of input shapes.

/// The program for one list of input shapes: the steps replayed on every call.
final class CompiledProgram<Scalar: TensorScalar>: @unchecked Sendable {
    /// The optimised graph.
    let graph: Graph<Scalar>
    /// The lowered program.
    let program: Program<Scalar>

    init(graph: Graph<Scalar>) {
        self.graph = graph
        program = Program(graph: graph, heapValues: true)
    }

    /// Traces `f` at `arguments` and compiles the trace; returns the program, with the random streams the
    /// trace drew from put back to their states before it (so the program's run draws what the trace drew).
    static func trace(_ f: ([Tensor<Scalar>]) -> [Tensor<Scalar>], at arguments: [Tensor<Scalar>]) -> CompiledProgram {
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
        let program = CompiledProgram(graph: graph)
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
            print("compile: trace \(trace.nodes.count) nodes, optimized \(graph.nodes.count) \(kinds.sorted { $0.value > $1.value }.prefix(12)); steps \(stepKinds) instructions \(instructions); passes \(t1 - t0), lowering \(t2 - t1); arena \(program.program.arenaSize)")
        }
        return program
    }

    /// Runs the program on untracked arguments of the shapes it was compiled for.
    func run(_ arguments: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        program.run(arguments)
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
