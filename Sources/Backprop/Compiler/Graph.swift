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

/// A graph being rebuilt in node order by `Graph.rewritten`: the new nodes, and each old node's new id.
struct GraphRebuild<Scalar: TensorScalar> {
    fileprivate(set) var nodes: [TraceNode<Scalar>] = []
    fileprivate var renumbered: [Int32]

    /// The new id of an old node already rebuilt.
    func new(_ old: Int32) -> Int32 { renumbered[Int(old)] }

    /// Appends a node whose inputs are new ids; returns its id.
    mutating func append(_ node: TraceNode<Scalar>) -> Int32 {
        nodes.append(node)
        return Int32(nodes.count - 1)
    }
}

extension Graph {
    /// The graph rebuilt in node order, `rewrite` replacing nodes: given an old node's index and the node (inputs
    /// in old ids), it appends what replaces it and returns the id that now stands for it, or returns nil to keep
    /// the node as it is (renumbered). Replaced nodes nothing reads any more are left for dead-code elimination;
    /// `self` when nothing was replaced.
    func rewritten(_ rewrite: (Int, TraceNode<Scalar>, inout GraphRebuild<Scalar>) -> Int32?) -> Graph {
        var rebuild = GraphRebuild<Scalar>(renumbered: [Int32](repeating: -1, count: nodes.count))
        var changed = false
        for (i, node) in nodes.enumerated() {
            if let replacement = rewrite(i, node, &rebuild) {
                rebuild.renumbered[i] = replacement
                changed = true
                continue
            }
            var node = node
            node.inputs = node.inputs.map { rebuild.new($0) }
            rebuild.renumbered[i] = rebuild.append(node)
        }
        guard changed else { return self }
        var result = self
        result.nodes = rebuild.nodes
        result.outputs = outputs.map { rebuild.new($0) }
        return result
    }
}
