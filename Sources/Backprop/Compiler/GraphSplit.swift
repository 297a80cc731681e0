// Splitting a graph at its arguments: the part that depends only on some of them runs first (a scan's forward
// step), the rest later (its reverse step), as JAX's partial evaluation splits a linearised function. What the
// late part needs from the early part it computes again when that is cheap (elementwise and data-movement
// nodes of the arguments it also receives) and receives as a residual otherwise (a random draw, a product of
// matrices): a random draw is then seen by both parts as the same value.

/// A graph split into an early part, which reads only the early arguments, and a late part, which reads the
/// late arguments and the early values it cannot compute again (the residuals).
struct GraphSplit<Scalar: TensorScalar> {
    /// Arguments: the early arguments in the order given. Outputs: the early outputs, then the residuals.
    let early: Graph<Scalar>
    /// Arguments: those given by the roles, with the residuals after the first `lateArgumentCount` and the
    /// `.shared` arguments after the residuals. Outputs: the late outputs.
    let late: Graph<Scalar>
    /// The shape of each residual.
    let residualShapes: [[Int]]

    /// Where an argument of the whole graph goes.
    enum Role {
        /// An argument of the early part (at this index there) that the late part also receives, at `late`
        /// (an index among the first `lateArgumentCount` of its arguments).
        case early(Int, late: Int)
        /// An argument of both parts: at `early` in the early part, at `late` after the residuals in the
        /// late part.
        case shared(early: Int, late: Int)
        /// An argument of the late part only (at this index, among the first `lateArgumentCount`).
        case late(Int)
    }

    /// Splits `graph`, whose argument `k` has role `roles[k]`; its first `earlyOutputCount` outputs must depend
    /// on early and shared arguments only (nil otherwise).
    init?(_ graph: Graph<Scalar>, roles: [Role], earlyOutputCount: Int, lateArgumentCount: Int) {
        let nodes = graph.nodes, n = nodes.count
        // A node is early when it reads no late-only argument, directly or not.
        var isEarly = [Bool](repeating: true, count: n)
        // An early node the late part can compute again from its own arguments, cheaply.
        var isRecomputable = [Bool](repeating: false, count: n)
        for (i, node) in nodes.enumerated() {
            switch node.kind {
            case .argument(let k):
                if case .late = roles[k] { isEarly[i] = false }
                isRecomputable[i] = isEarly[i]
            case .constant:
                isRecomputable[i] = true
            case .opaque, .matmul:
                isEarly[i] = node.inputs.allSatisfy { isEarly[Int($0)] }
            default:
                isEarly[i] = node.inputs.allSatisfy { isEarly[Int($0)] }
                isRecomputable[i] = isEarly[i] && node.inputs.allSatisfy { isRecomputable[Int($0)] }
            }
        }
        guard graph.outputs.prefix(earlyOutputCount).allSatisfy({ isEarly[Int($0)] }) else { return nil }
        // The early values the late part needs: read by late nodes or returned, and, for values it computes
        // again, their inputs. Those it cannot compute again are the residuals.
        var isNeeded = [Bool](repeating: false, count: n)
        for (i, node) in nodes.enumerated() where !isEarly[i] { for input in node.inputs { isNeeded[Int(input)] = true } }
        for output in graph.outputs.dropFirst(earlyOutputCount) { isNeeded[Int(output)] = true }
        for i in (0..<n).reversed() where isNeeded[i] && isEarly[i] && isRecomputable[i] {
            for input in nodes[i].inputs { isNeeded[Int(input)] = true }
        }
        let residuals = (0..<n).filter { isNeeded[$0] && isEarly[$0] && !isRecomputable[$0] }
        residualShapes = residuals.map { nodes[$0].shape }

        // The early part: the early nodes, arguments renumbered.
        var earlyNodes: [TraceNode<Scalar>] = []
        var earlyIndex = [Int32](repeating: -1, count: n)
        var earlyArguments = 0
        for (i, node) in nodes.enumerated() where isEarly[i] {
            var copy = node
            if case .argument(let k) = node.kind {
                switch roles[k] {
                case .early(let e, _), .shared(let e, _): copy.kind = .argument(e)
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

        // The late part: its arguments (given ones, residuals, shared ones), then in order the late nodes and the
        // early ones it computes again.
        var lateNodes: [TraceNode<Scalar>] = []
        var lateIndex = [Int32](repeating: -1, count: n)
        var lateArguments = lateArgumentCount + residuals.count
        for (i, node) in nodes.enumerated() {
            guard case .argument(let k) = node.kind else { continue }
            let position: Int
            switch roles[k] {
            case .late(let l), .early(_, let l): position = l
            case .shared(_, let l):
                position = lateArgumentCount + residuals.count + l
                lateArguments += 1
            }
            lateIndex[i] = Int32(lateNodes.count)
            lateNodes.append(TraceNode(kind: .argument(position), inputs: [], shape: node.shape))
        }
        for (r, i) in residuals.enumerated() {
            lateIndex[i] = Int32(lateNodes.count)
            lateNodes.append(TraceNode(kind: .argument(lateArgumentCount + r), inputs: [], shape: nodes[i].shape))
        }
        for (i, node) in nodes.enumerated() where lateIndex[i] < 0 && (!isEarly[i] || (isNeeded[i] && isRecomputable[i])) {
            var copy = node
            copy.inputs = node.inputs.map { lateIndex[Int($0)] }
            lateIndex[i] = Int32(lateNodes.count)
            lateNodes.append(copy)
        }
        late = Graph(nodes: lateNodes, outputs: graph.outputs.dropFirst(earlyOutputCount).map { lateIndex[Int($0)] },
                     argumentCount: lateArguments)
    }
}
