// The compiler's graph passes: dead-code elimination, algebraic identities and common subexpressions, in one
// forward rebuild of the graph followed by a backward sweep for liveness.

extension Graph {
    /// The graph with only the nodes the outputs depend on, renumbered in the same order.
    func withoutDeadCode() -> Graph {
        var live = [Bool](repeating: false, count: nodes.count)
        for output in outputs { live[Int(output)] = true }
        for i in nodes.indices.reversed() where live[i] {
            for input in nodes[i].inputs { live[Int(input)] = true }
        }
        // Arguments stay (the program is called with all of them), even when nothing reads them.
        for (i, node) in nodes.enumerated() { if case .argument = node.kind { live[i] = true } }
        var renumbered = [Int32](repeating: -1, count: nodes.count)
        var kept: [TraceNode<Scalar>] = []
        for (i, node) in nodes.enumerated() where live[i] {
            var node = node
            node.inputs = node.inputs.map { renumbered[Int($0)] }
            renumbered[i] = Int32(kept.count)
            kept.append(node)
        }
        var result = self
        result.nodes = kept
        result.outputs = outputs.map { renumbered[Int($0)] }
        return result
    }

    /// The graph with identities applied and common subexpressions merged: each node is rebuilt in order and
    /// either replaced by an earlier node that computes the same value or kept.
    func simplified() -> Graph {
        var rebuilt: [TraceNode<Scalar>] = []
        var replacement = [Int32](repeating: -1, count: nodes.count)
        var seen: [NodeKey: Int32] = [:]
        var scalarConstants: [UInt64: Int32] = [:]

        /// The value of a constant whose elements are all one value (a scalar, or a broadcast one).
        func constantValue(_ node: Int32) -> Scalar? {
            let n = rebuilt[Int(node)]
            guard case .constant = n.kind, let c = n.constant, c.scalarCount >= 1 else { return nil }
            return c.withScalarBuffer { values in values.allSatisfy { $0 == values[0] } ? values[0] : nil }
        }

        for (i, node) in nodes.enumerated() {
            var node = node
            node.inputs = node.inputs.map { replacement[Int($0)] }
            let index = rebuilt.count
            // A reshape of a reshape reads the original.
            if case .reshape = node.kind, case .reshape = rebuilt[Int(node.inputs[0])].kind {
                node.inputs = rebuilt[Int(node.inputs[0])].inputs
            }
            // Identities that make the node an earlier one.
            if let same = identity(of: node, constantValue: constantValue, nodes: rebuilt) {
                replacement[i] = same
                continue
            }
            // Equal scalar constants are one node.
            if case .constant = node.kind, let c = node.constant, c.shape.isEmpty {
                let bits = Double(c.withScalarBuffer { $0[0] }).bitPattern
                if let existing = scalarConstants[bits] {
                    replacement[i] = existing
                    continue
                }
                scalarConstants[bits] = Int32(index)
            }
            // Common subexpressions: the same kind on the same inputs with the same shape.
            if node.isPure {
                let key = NodeKey(kind: node.kind, inputs: node.inputs, shape: node.shape)
                if let existing = seen[key] {
                    replacement[i] = existing
                    continue
                }
                seen[key] = Int32(index)
            }
            replacement[i] = Int32(index)
            rebuilt.append(node)
        }
        var result = self
        result.nodes = rebuilt
        result.outputs = outputs.map { replacement[Int($0)] }
        return result
    }

    /// The earlier node `node` equals by an algebraic identity (x·1, x+0, x−0, x/1, a broadcast or reshape to
    /// the input's own shape), or nil.
    private func identity(
        of node: TraceNode<Scalar>, constantValue: (Int32) -> Scalar?, nodes: [TraceNode<Scalar>]
    ) -> Int32? {
        switch node.kind {
        case .reshape, .broadcast:
            return nodes[Int(node.inputs[0])].shape == node.shape ? node.inputs[0] : nil
        case .transpose(let p):
            return p == Array(p.indices) ? node.inputs[0] : nil
        case .binary(let code):
            let a = node.inputs[0], b = node.inputs[1]
            let ca = constantValue(a), cb = constantValue(b)
            let aKeepsShape = nodes[Int(a)].shape == node.shape, bKeepsShape = nodes[Int(b)].shape == node.shape
            switch code {
            case .multiply:
                if cb == 1 && aKeepsShape { return a }
                if ca == 1 && bKeepsShape { return b }
            case .add:
                if cb == 0 && aKeepsShape { return a }
                if ca == 0 && bKeepsShape { return b }
            case .subtract:
                if cb == 0 && aKeepsShape { return a }
            case .divide:
                if cb == 1 && aKeepsShape { return a }
            default: break
            }
            return nil
        default:
            return nil
        }
    }
}

extension TraceNode {
    /// Whether two nodes of this kind on the same inputs always compute the same value (arguments, constants
    /// and opaque primitives are not merged).
    var isPure: Bool {
        switch kind {
        case .argument, .constant, .opaque: false
        default: true
        }
    }
}

/// What makes two nodes the same computation.
private struct NodeKey: Hashable {
    let kind: OpKind
    let inputs: [Int32]
    let shape: [Int]
}
