// Splitting a graph at its arguments: the part that depends only on some of them runs first (a scan's forward
// step), the rest later from the values it saved (the reverse step reads these residuals instead of computing
// the forward step again), as JAX's partial evaluation splits a linearised function.

/// A graph split into an early part, which reads only the early arguments, and a late part, which reads the
/// late arguments and the early part's values it needs (the residuals).
struct GraphSplit<Scalar: TensorScalar> {
    /// Arguments: the early arguments in the order given. Outputs: the early outputs, then the residuals.
    let early: Graph<Scalar>
    /// Arguments: the late arguments, the residuals and the shared arguments, in the order `split` was told.
    /// Outputs: the late outputs.
    let late: Graph<Scalar>
    /// The shape of each residual.
    let residualShapes: [[Int]]

    /// Where an argument of the whole graph goes.
    enum Role {
        /// An argument of the early part only (at this index there).
        case early(Int)
        /// An argument of the early part (at `early`) that the late part also reads directly (at `late`, after
        /// its residuals: the late part's arguments are late, residuals, then shared).
        case shared(early: Int, late: Int)
        /// An argument of the late part (at this index, before the residuals).
        case late(Int)
    }

    /// Splits `graph`, whose argument `k` has role `roles[k]`; its first `earlyOutputCount` outputs must depend
    /// on early and shared arguments only (nil otherwise). `lateArgumentCount` counts the `.late` roles, the
    /// residuals' arguments of the late part come right after them.
    init?(_ graph: Graph<Scalar>, roles: [Role], earlyOutputCount: Int, lateArgumentCount: Int) {
        let n = graph.nodes.count
        // A node is early when it reads no late argument, directly or not.
        var isEarly = [Bool](repeating: true, count: n)
        for (i, node) in graph.nodes.enumerated() {
            if case .argument(let k) = node.kind {
                if case .late = roles[k] { isEarly[i] = false }
            } else {
                isEarly[i] = node.inputs.allSatisfy { isEarly[Int($0)] }
            }
        }
        guard graph.outputs.prefix(earlyOutputCount).allSatisfy({ isEarly[Int($0)] }) else { return nil }
        func isShared(_ i: Int) -> Bool {
            if case .argument(let k) = graph.nodes[i].kind, case .shared = roles[k] { return true }
            return false
        }
        func isConstant(_ i: Int) -> Bool {
            if case .constant = graph.nodes[i].kind { return true }
            return false
        }
        // Residuals: early values (not constants, not shared arguments) that the late part reads or returns.
        var isResidual = [Bool](repeating: false, count: n)
        for (i, node) in graph.nodes.enumerated() where !isEarly[i] {
            for input in node.inputs where isEarly[Int(input)] { isResidual[Int(input)] = true }
        }
        for output in graph.outputs.dropFirst(earlyOutputCount) where isEarly[Int(output)] { isResidual[Int(output)] = true }
        let residuals = (0..<n).filter { isResidual[$0] && !isConstant($0) && !isShared($0) }
        residualShapes = residuals.map { graph.nodes[$0].shape }

        // The early part: the early nodes, arguments renumbered.
        var earlyNodes: [TraceNode<Scalar>] = []
        var earlyIndex = [Int32](repeating: -1, count: n)
        var earlyArguments = 0
        for (i, node) in graph.nodes.enumerated() where isEarly[i] {
            var copy = node
            if case .argument(let k) = node.kind {
                switch roles[k] {
                case .early(let e), .shared(let e, _): copy.kind = .argument(e)
                case .late: continue
                }
                earlyArguments += 1
            }
            copy.inputs = node.inputs.map { earlyIndex[Int($0)] }
            earlyIndex[i] = Int32(earlyNodes.count)
            earlyNodes.append(copy)
        }
        early = Graph(nodes: earlyNodes, outputs: graph.outputs.prefix(earlyOutputCount).map { earlyIndex[Int($0)] }
                      + residuals.map { earlyIndex[$0] }, argumentCount: earlyArguments)

        // The late part: its arguments first (late, residuals, shared), then the late nodes and the constants
        // they read.
        var lateNodes: [TraceNode<Scalar>] = []
        var lateIndex = [Int32](repeating: -1, count: n)
        var lateArguments = lateArgumentCount + residuals.count
        for (i, node) in graph.nodes.enumerated() {
            guard case .argument(let k) = node.kind else { continue }
            switch roles[k] {
            case .late(let l):
                lateIndex[i] = Int32(lateNodes.count)
                lateNodes.append(TraceNode(kind: .argument(l), inputs: [], shape: node.shape))
            case .shared(_, let l):
                lateIndex[i] = Int32(lateNodes.count)
                lateNodes.append(TraceNode(kind: .argument(lateArgumentCount + residuals.count + l), inputs: [], shape: node.shape))
                lateArguments += 1
            case .early: continue
            }
        }
        for (r, i) in residuals.enumerated() {
            lateIndex[i] = Int32(lateNodes.count)
            lateNodes.append(TraceNode(kind: .argument(lateArgumentCount + r), inputs: [], shape: graph.nodes[i].shape))
        }
        func lateNode(_ input: Int32) -> Int32 {
            let i = Int(input)
            if lateIndex[i] < 0 {
                // Only constants are read by the late part without being residuals or arguments.
                precondition(isConstant(i), "GraphSplit: an early value read late is neither a residual nor a constant")
                lateIndex[i] = Int32(lateNodes.count)
                lateNodes.append(graph.nodes[i])
            }
            return lateIndex[i]
        }
        for (i, node) in graph.nodes.enumerated() where !isEarly[i] {
            if case .argument = node.kind { continue }
            var copy = node
            copy.inputs = node.inputs.map(lateNode)
            lateIndex[i] = Int32(lateNodes.count)
            lateNodes.append(copy)
        }
        let lateOutputs = graph.outputs.dropFirst(earlyOutputCount).map(lateNode)
        late = Graph(nodes: lateNodes, outputs: lateOutputs, argumentCount: lateArguments)
    }
}
