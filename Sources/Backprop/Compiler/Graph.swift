// The compiler's graph: a trace's nodes after the compiler's passes, with the outputs the program returns.

/// A graph of primitives in execution order, with the nodes the program returns.
struct Graph<Scalar: TensorScalar> {
    /// The nodes, in execution order (each node's inputs come before it).
    var nodes: [TraceNode<Scalar>]
    /// The nodes whose values the program returns, in order.
    var outputs: [Int32]
    /// How many arguments the program takes.
    var argumentCount: Int

    init(nodes: [TraceNode<Scalar>], outputs: [Int32], argumentCount: Int) {
        self.nodes = nodes
        self.outputs = outputs
        self.argumentCount = argumentCount
    }

    init(_ trace: Trace<Scalar>, outputs: [Int32], argumentCount: Int) {
        nodes = trace.nodes
        self.outputs = outputs
        self.argumentCount = argumentCount
    }

    /// How many nodes read each node's value (outputs count as readers).
    func useCounts() -> [Int] {
        var uses = [Int](repeating: 0, count: nodes.count)
        for node in nodes { for input in node.inputs { uses[Int(input)] += 1 } }
        for output in outputs { uses[Int(output)] += 1 }
        return uses
    }

    /// The index of the last node that reads each node's value (`nodes.count` for outputs, -1 when unread).
    func lastUses() -> [Int] {
        var last = [Int](repeating: -1, count: nodes.count)
        for (i, node) in nodes.enumerated() { for input in node.inputs { last[Int(input)] = i } }
        for output in outputs { last[Int(output)] = nodes.count }
        return last
    }
}
