// Lecture 002's forward and backward tables, node by node, for a formula at a point.

/// One row of the forward table: a node's operation, inputs, output and local partial derivatives.
public struct ForwardStep: Sendable {
    /// The node's index in the expression.
    public var node: Int
    /// The node's name: a variable's name, `v1`, `v2`, … for operations, `f` for the result.
    public var name: String
    /// The operation with dots for inputs, such as `σ(·)`; `input` for a variable.
    public var operation: String
    /// The inputs' names and values, in order.
    public var inputs: [(name: String, value: Double)]
    /// The node's output o.
    public var output: Double
    /// ∂o/∂iₖ for each input.
    public var localPartials: [Double]
}

/// One row of the backward table: the gradients arriving at a node, its local derivatives, and the
/// gradients it passes to its inputs.
public struct BackwardStep: Sendable {
    /// The node's index in the expression.
    public var node: Int
    /// The node's name.
    public var name: String
    /// The operation, as in the forward table.
    public var operation: String
    /// ∂f/∂o through each consumer (name, value); empty for the result, whose upstream gradient is 1.
    public var upstream: [(from: String, value: Double)]
    /// ∂f/∂o: the sum of `upstream` (1 for the result).
    public var gradient: Double
    /// ∂o/∂iₖ for each input.
    public var localPartials: [Double]
    /// ∂f/∂iₖ = ∂f/∂o · ∂o/∂iₖ for each input.
    public var downstream: [Double]
}

/// The forward and backward tables of a formula at a point.
///
/// Values come from the engine; local derivatives come from `Operation.localPartials`, and the backward
/// table multiplies and sums them as lecture 002 does by hand (tests check its sums against the engine).
public struct Trace: Sendable {
    /// The graph the tables describe.
    public let graph: ComputationGraph
    /// Variables and operations in evaluation order (constants appear as inputs).
    public let forward: [ForwardStep]
    /// Operations then variables in reverse evaluation order.
    public let backward: [BackwardStep]

    /// Builds the tables for `graph`.
    public init(graph: ComputationGraph) {
        self.graph = graph
        let expression = graph.formula
        let nodes = expression.nodes
        let names = expression.nodeNames
        var forward: [ForwardStep] = []
        var partials = [[Double]](repeating: [], count: nodes.count)
        for (index, node) in nodes.enumerated() {
            let inputs = node.inputs.map { graph.values[$0] }
            partials[index] = node.operation.localPartials(inputs: inputs, output: graph.values[index])
            if case .constant = node.operation { continue }
            forward.append(ForwardStep(
                node: index, name: names[index], operation: node.operation.traceSymbol,
                inputs: node.inputs.map { (names[$0], graph.values[$0]) }, output: graph.values[index],
                localPartials: partials[index]))
        }
        // Reverse accumulation: each edge carries ∂f/∂o · ∂o/∂iₖ to its input, where arrivals are summed.
        var arrivals = [[(from: String, value: Double)]](repeating: [], count: nodes.count)
        var backward: [BackwardStep] = []
        for index in nodes.indices.reversed() {
            let node = nodes[index]
            if case .constant = node.operation { continue }
            let gradient = index == expression.root ? 1 : arrivals[index].reduce(0) { $0 + $1.value }
            let downstream = partials[index].map { gradient * $0 }
            for (input, value) in zip(node.inputs, downstream) { arrivals[input].append((names[index], value)) }
            backward.append(BackwardStep(
                node: index, name: names[index], operation: node.operation.traceSymbol,
                upstream: index == expression.root ? [] : arrivals[index].reversed(), gradient: gradient,
                localPartials: partials[index], downstream: downstream))
        }
        self.forward = forward
        self.backward = backward
    }

    /// The operations reverse mode executes, counted as the tables list them: each operation node's value
    /// (1) in the forward pass, each local derivative along an edge from a non-constant input (1 each), in
    /// the backward pass each product ∂f/∂o · ∂o/∂i (1 per such edge), and the additions that sum the
    /// arrivals where a value fans out.
    public var operationCount: Int {
        let nodes = graph.formula.nodes
        var count = 0
        for step in forward where !nodes[step.node].inputs.isEmpty {
            count += 1 + nodes[step.node].inputs.filter { !nodes[$0].isConstant }.count
        }
        for step in backward {
            count += nodes[step.node].inputs.filter { !nodes[$0].isConstant }.count
            count += Swift.max(0, step.upstream.count - 1)
        }
        return count
    }

    /// The gradient ∂f/∂node that the backward table arrives at for each node (nil for constants).
    public var gradients: [Double?] {
        var result = [Double?](repeating: nil, count: graph.values.count)
        for step in backward { result[step.node] = step.gradient }
        return result
    }

    /// Both tables as aligned text, numbers with `digits` significant digits.
    ///
    /// Constant inputs are written into the operation (`·^2`, `2 × ·`) rather than listed, and the other
    /// inputs are called i (one) or i1, i2 (two), as in lecture 002.
    public func render(digits: Int = 6) -> String {
        let expression = graph.formula
        func number(_ value: Double) -> String { formatSignificant(value, digits: digits) }
        // For a node: the positions of its non-constant inputs and their labels.
        func labelled(_ node: Int) -> [(position: Int, label: String)] {
            let inputs = expression.nodes[node].inputs
            let positions = inputs.indices.filter { !expression.nodes[inputs[$0]].isConstant }
            return positions.enumerated().map { n, position in (position, positions.count == 1 ? "i" : "i\(n + 1)") }
        }
        var forwardRows: [[String]] = [["node", "operation", "inputs i", "output o", "local derivatives ∂o/∂i"]]
        for step in forward {
            let inputs = labelled(step.node).map { position, label in
                "\(label) = \(step.inputs[position].name) = \(number(step.inputs[position].value))"
            }
            let partials = labelled(step.node).map { position, label in "∂o/∂\(label) = \(number(step.localPartials[position]))" }
            forwardRows.append([
                step.name, expression.operationSymbol(step.node), inputs.joined(separator: ", "), number(step.output),
                partials.joined(separator: ", "),
            ])
        }
        var backwardRows: [[String]] = [["node", "operation", "upstream ∂f/∂o", "local ∂o/∂i", "downstream ∂f/∂i = ∂f/∂o · ∂o/∂i"]]
        for step in backward {
            let upstream: String
            switch step.upstream.count {
            case 0: upstream = "1"
            case 1: upstream = "\(number(step.gradient)) (from \(step.upstream[0].from))"
            default:
                // One term per line, so the sum at a branch reads as the lecture writes it.
                let terms = step.upstream.enumerated().map { k, term in (k == 0 ? "  " : "+ ") + "\(number(term.value)) (from \(term.from))" }
                upstream = (terms + ["= \(number(step.gradient))"]).joined(separator: "\n")
            }
            let local = labelled(step.node).map { "∂o/∂\($1) = \(number(step.localPartials[$0]))" }
            let downstream = labelled(step.node).map { "∂f/∂\($1) = \(number(step.downstream[$0]))" }
            backwardRows.append([
                step.name, expression.operationSymbol(step.node), upstream, local.joined(separator: ", "),
                downstream.joined(separator: ", "),
            ])
        }
        let result = graph.result
        let point = zip(result.variables, result.point).map { "\($0) = \(formatShort($1))" }
        let at = point.isEmpty ? "" : " at " + point.joined(separator: ", ")
        let partials = zip(result.variables, result.gradient).map { ", ∂f/∂\($0) = \(number($1))" }.joined()
        return """
            Forward pass\(at): f = \(expression.source)

            \(renderTable(forwardRows))

            Backward pass: ∂f/∂o arrives from each node that reads o, summed where o fans out

            \(renderTable(backwardRows))

            f = \(number(graph.value))\(partials)
            """
    }
}

/// Rows of cells as an aligned table (the first row a header), as the CLI prints them.
public func renderTableForCLI(_ rows: [[String]]) -> String { renderTable(rows) }

/// Rows of cells as text with every column padded to its widest line; the first row is a header,
/// underlined. A cell may hold several lines (separated by newlines); its row grows to fit.
func renderTable(_ rows: [[String]]) -> String {
    guard let header = rows.first else { return "" }
    let split = rows.map { row in row.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } }
    var widths = [Int](repeating: 0, count: header.count)
    for row in split { for (k, cell) in row.enumerated() { widths[k] = Swift.max(widths[k], cell.map(\.count).max() ?? 0) } }
    func lines(_ row: [[String]]) -> [String] {
        let height = row.map(\.count).max() ?? 1
        return (0..<height).map { line in
            let cells = row.enumerated().map { k, cell in
                let text = line < cell.count ? cell[line] : ""
                return k == row.count - 1 ? text : text + String(repeating: " ", count: widths[k] - text.count)
            }
            var joined = cells.joined(separator: "  ")
            while joined.last == " " { joined.removeLast() }
            return joined
        }
    }
    let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")
    return (lines(split[0]) + [rule] + split.dropFirst().flatMap(lines)).joined(separator: "\n")
}

extension Operation {
    /// The operation's name in the tables: its dotted symbol, `input` for a variable.
    var traceSymbol: String {
        if case .variable = self { return "input" }
        return symbol
    }
}

extension FormulaNode {
    /// Whether the node is a number written in the formula.
    var isConstant: Bool {
        if case .constant = operation { return true }
        return false
    }
}

extension Formula {
    /// The node's operation with constant inputs written in: `·^2`, `2 × ·`, `max(·, 0)`; `input` for a
    /// variable.
    public func operationSymbol(_ index: Int) -> String {
        let node = nodes[index]
        let inputs = node.inputs.map { input -> String in
            if case .constant(let value) = nodes[input].operation { return formatShort(value) }
            return "·"
        }
        switch node.operation {
        case .variable: return "input"
        case .add: return "\(inputs[0]) + \(inputs[1])"
        case .subtract: return "\(inputs[0]) − \(inputs[1])"
        case .multiply: return "\(inputs[0]) × \(inputs[1])"
        case .power: return "\(inputs[0])^\(inputs[1])"
        case .maximum: return "max(\(inputs[0]), \(inputs[1]))"
        case .minimum: return "min(\(inputs[0]), \(inputs[1]))"
        default: return node.operation.symbol
        }
    }
}

extension Formula {
    /// A name for every node: variables by name, constants by value, operations `v1`, `v2`, … in evaluation
    /// order, and the result `f`.
    public var nodeNames: [String] {
        var names: [String] = []
        var counter = 0
        for (index, node) in nodes.enumerated() {
            switch node.operation {
            case .variable(let name): names.append(name)
            case .constant(let value): names.append(formatShort(value))
            default:
                counter += 1
                names.append(index == root ? "f" : intermediateNames[index] ?? "v\(counter)")
            }
        }
        return names
    }
}
