// Lecture 004's symbolic differentiation: the derivative of a formula as another formula in the same language,
// built by the chain rule on expressions and simplified by plain rules only (constant folding, x·1, x + 0,
// x·0, −(−x)), so that its "repeated computation" shows: the expression written out has many more nodes than
// the graph, because every use of a subexpression repeats it.

import Backprop
import Foundation

/// A symbolic expression as a DAG of interned nodes: a subexpression built twice is stored once, so the
/// arena measures both the expression written out (a tree, repeats included) and its distinct parts.
public struct SymbolicExpressions: Sendable {
    /// One node: an operation of the formula language and the indices of its inputs (all smaller).
    struct Node: Hashable {
        var operation: Operation
        var inputs: [Int]
    }

    /// The nodes; every node's inputs come before it.
    private(set) var nodes: [Node] = []
    private var interned: [Node: Int] = [:]

    /// The node for `operation` on `inputs`, created once.
    mutating func node(_ operation: Operation, _ inputs: [Int] = []) -> Int {
        let candidate = Node(operation: operation, inputs: inputs)
        if let existing = interned[candidate] { return existing }
        nodes.append(candidate)
        interned[candidate] = nodes.count - 1
        return nodes.count - 1
    }

    /// The constant at `index`, if it is one.
    func constantValue(_ index: Int) -> Double? {
        if case .constant(let value) = nodes[index].operation { return value }
        return nil
    }

    // Constructors that apply the plain simplification rules.

    mutating func constant(_ value: Double) -> Int { node(.constant(value)) }

    mutating func negate(_ a: Int) -> Int {
        if let value = constantValue(a) { return constant(-value) }
        if nodes[a].operation == .negate { return nodes[a].inputs[0] }
        return node(.negate, [a])
    }

    mutating func add(_ a: Int, _ b: Int) -> Int {
        switch (constantValue(a), constantValue(b)) {
        case let (x?, y?): return constant(x + y)
        case (0?, _): return b
        case (_, 0?): return a
        default:
            if nodes[b].operation == .negate { return node(.subtract, [a, nodes[b].inputs[0]]) }
            return node(.add, [a, b])
        }
    }

    mutating func subtract(_ a: Int, _ b: Int) -> Int {
        switch (constantValue(a), constantValue(b)) {
        case let (x?, y?): return constant(x - y)
        case (0?, _): return negate(b)
        case (_, 0?): return a
        default: return node(.subtract, [a, b])
        }
    }

    mutating func multiply(_ a: Int, _ b: Int) -> Int {
        switch (constantValue(a), constantValue(b)) {
        case let (x?, y?): return constant(x * y)
        case (0?, _), (_, 0?): return constant(0)
        case (1?, _): return b
        case (_, 1?): return a
        case (.some(-1), _): return negate(b)
        case (_, .some(-1)): return negate(a)
        default: return node(.multiply, [a, b])
        }
    }

    mutating func reciprocal(_ a: Int) -> Int {
        if let value = constantValue(a) { return constant(1 / value) }
        return node(.reciprocal, [a])
    }

    /// a / b, as the language writes it: a · (1/b).
    mutating func divide(_ a: Int, _ b: Int) -> Int { multiply(a, reciprocal(b)) }

    mutating func power(_ a: Int, _ b: Int) -> Int {
        switch (constantValue(a), constantValue(b)) {
        case let (x?, y?): return constant(Foundation.pow(x, y))
        case (_, 1?): return a
        case (_, 0?): return constant(1)
        default: return node(.power, [a, b])
        }
    }

    mutating func apply(_ f: ElementaryFunction, _ a: Int) -> Int {
        if let x = constantValue(a) { return constant(f.evaluate(x)) }
        return node(.function(f), [a])
    }

    mutating func extremum(_ operation: Operation, _ a: Int, _ b: Int) -> Int {
        if let x = constantValue(a), let y = constantValue(b) {
            return constant(operation == .maximum ? Swift.max(x, y) : Swift.min(x, y))
        }
        return node(operation, [a, b])
    }

    /// Rebuilds node `operation(inputs)` through the simplifying constructors.
    mutating func rebuild(_ operation: Operation, _ inputs: [Int]) -> Int {
        switch operation {
        case .constant(let value): constant(value)
        case .variable: node(operation)
        case .negate: negate(inputs[0])
        case .add: add(inputs[0], inputs[1])
        case .subtract: subtract(inputs[0], inputs[1])
        case .multiply: multiply(inputs[0], inputs[1])
        case .reciprocal: reciprocal(inputs[0])
        case .power: power(inputs[0], inputs[1])
        case .maximum, .minimum: extremum(operation, inputs[0], inputs[1])
        case .function(let f): apply(f, inputs[0])
        }
    }
}

extension ElementaryFunction {
    /// The function's value at `x` (for constant folding).
    func evaluate(_ x: Double) -> Double {
        switch self {
        case .sin: Foundation.sin(x)
        case .cos: Foundation.cos(x)
        case .tan: Foundation.tan(x)
        case .exp: Foundation.exp(x)
        case .log: Foundation.log(x)
        case .sqrt: x.squareRoot()
        case .tanh: Foundation.tanh(x)
        case .sigmoid: 1 / (1 + Foundation.exp(-x))
        case .relu: x > 0 ? x : 0
        case .abs: Swift.abs(x)
        }
    }
}

/// One partial derivative of a formula as an expression, with the sizes lecture 004 compares.
public struct SymbolicPartial: Sendable {
    /// The variable differentiated by.
    public var variable: String
    /// The derivative in the formula language, or nil when it is too large to print (see `treeSize`).
    public var text: String?
    /// Nodes of the derivative written out as a tree, every repeat counted (what a plain symbolic system
    /// builds and evaluates).
    public var treeSize: UnboundedCount
    /// Distinct subexpressions of the derivative (the tree with every repeat shared).
    public var distinctSize: Int
    /// Distinct operation subexpressions that the written-out tree contains more than once.
    public var repeatedSubexpressions: Int
    /// The derivative written out as a formula (repeats as separate nodes), or nil beyond
    /// `SymbolicDerivatives.evaluationLimit` nodes.
    public var writtenOut: Formula?
}

/// A formula's partial derivatives by symbolic differentiation.
public struct SymbolicDerivatives: Sendable {
    /// The formula differentiated.
    public let formula: Formula
    /// One partial per variable, in the formula's order.
    public let partials: [SymbolicPartial]
    /// Whether a `max`, `min`, `relu` or `abs` was differentiated on the branch it takes at the point (the
    /// expressions are then valid only where the same branches are taken).
    public let usesBranchesAtPoint: Bool

    /// The most nodes a derivative may have to be printed.
    public static let printLimit = 2000
    /// The most nodes a derivative may have to be written out as a formula and evaluated.
    public static let evaluationLimit = 200_000
}

extension Formula {
    /// Differentiates the formula symbolically with respect to each variable.
    ///
    /// The chain rule is applied to expressions, node by node: d(a·b) = da·b + a·db, d sin a = cos a · da, and
    /// so on, with each node's derivative built once per variable. `max`, `min`, `relu` and `abs` have no
    /// derivative as an expression of the language, so they are differentiated on the branch they take at
    /// `point` (one value per variable), as the engine does.
    public func symbolicDerivatives(at point: [Double]) -> SymbolicDerivatives {
        precondition(point.count == variables.count, "symbolicDerivatives(at:): \(variables.count) values needed")
        let values = withoutRecordingValues(at: point)
        var arena = SymbolicExpressions()
        // The formula itself as expressions (shared structure interned, simplified as built).
        var expression = [Int](repeating: 0, count: nodes.count)
        for (index, node) in nodes.enumerated() {
            expression[index] = arena.rebuild(node.operation, node.inputs.map { expression[$0] })
        }
        var branches = false
        var partials: [SymbolicPartial] = []
        for variable in variables {
            var derivative = [Int](repeating: 0, count: nodes.count)
            for (index, node) in nodes.enumerated() {
                let e = node.inputs.map { expression[$0] }
                let d = node.inputs.map { derivative[$0] }
                switch node.operation {
                case .constant: derivative[index] = arena.constant(0)
                case .variable(let name): derivative[index] = arena.constant(name == variable ? 1 : 0)
                case .negate: derivative[index] = arena.negate(d[0])
                case .add: derivative[index] = arena.add(d[0], d[1])
                case .subtract: derivative[index] = arena.subtract(d[0], d[1])
                case .multiply:
                    // d(a·b) = da·b + a·db
                    derivative[index] = arena.add(arena.multiply(d[0], e[1]), arena.multiply(e[0], d[1]))
                case .reciprocal:
                    // d(1/a) = −da / (a·a)
                    derivative[index] = arena.negate(arena.divide(d[0], arena.multiply(e[0], e[0])))
                case .power:
                    // d(a^b) = b·a^(b−1)·da + a^b·log(a)·db
                    let base = arena.multiply(arena.multiply(e[1], arena.power(e[0], arena.subtract(e[1], arena.constant(1)))), d[0])
                    let exponent = arena.multiply(arena.multiply(expression[index], arena.apply(.log, e[0])), d[1])
                    derivative[index] = arena.add(base, exponent)
                case .maximum, .minimum:
                    branches = true
                    let a = values[node.inputs[0]], b = values[node.inputs[1]]
                    let first = node.operation == .maximum ? a >= b : a <= b
                    derivative[index] = first ? d[0] : d[1]
                case .function(let f):
                    let a = e[0], da = d[0]
                    switch f {
                    case .sin: derivative[index] = arena.multiply(arena.apply(.cos, a), da)
                    case .cos: derivative[index] = arena.negate(arena.multiply(arena.apply(.sin, a), da))
                    case .tan:
                        let t = expression[index]
                        derivative[index] = arena.multiply(arena.add(arena.constant(1), arena.multiply(t, t)), da)
                    case .exp: derivative[index] = arena.multiply(expression[index], da)
                    case .log: derivative[index] = arena.divide(da, a)
                    case .sqrt: derivative[index] = arena.divide(da, arena.multiply(arena.constant(2), expression[index]))
                    case .tanh:
                        let t = expression[index]
                        derivative[index] = arena.multiply(arena.subtract(arena.constant(1), arena.multiply(t, t)), da)
                    case .sigmoid:
                        let s = expression[index]
                        derivative[index] = arena.multiply(arena.multiply(s, arena.subtract(arena.constant(1), s)), da)
                    case .relu:
                        branches = true
                        derivative[index] = values[node.inputs[0]] > 0 ? da : arena.constant(0)
                    case .abs:
                        branches = true
                        let x = values[node.inputs[0]]
                        derivative[index] = x > 0 ? da : (x < 0 ? arena.negate(da) : arena.constant(0))
                    }
                }
            }
            partials.append(arena.partial(variable: variable, root: derivative[root], formulaVariables: variables))
        }
        return SymbolicDerivatives(formula: self, partials: partials, usesBranchesAtPoint: branches)
    }

    /// Every node's value at `point`, from the engine, nothing recorded.
    func withoutRecordingValues(at point: [Double]) -> [Double] {
        withoutRecording { engineValues(variables: point.map { Tensor($0) }, probes: nil).map(\.scalar) }
    }
}

extension SymbolicExpressions {
    /// The sizes, text and written-out formula of the expression rooted at `root`.
    func partial(variable: String, root: Int, formulaVariables: [String]) -> SymbolicPartial {
        // Occurrences of each node in the written-out tree, and each subtree's size, in one sweep each way.
        var reachable = [Bool](repeating: false, count: root + 1)
        reachable[root] = true
        var occurrences = [UnboundedCount](repeating: UnboundedCount(0), count: root + 1)
        occurrences[root] = UnboundedCount(1)
        for index in (0...root).reversed() where reachable[index] {
            for input in nodes[index].inputs {
                reachable[input] = true
                occurrences[input] += occurrences[index]
            }
        }
        var size = [UnboundedCount](repeating: UnboundedCount(0), count: root + 1)
        var approximateSize = [Double](repeating: 0, count: root + 1)
        var depth = [Int](repeating: 0, count: root + 1)
        var distinct = 0, repeated = 0
        for index in 0...root where reachable[index] {
            distinct += 1
            if nodes[index].operation.arity > 0, occurrences[index] != UnboundedCount(1) { repeated += 1 }
            size[index] = nodes[index].inputs.reduce(UnboundedCount(1)) { $0 + size[$1] }
            approximateSize[index] = nodes[index].inputs.reduce(1) { $0 + approximateSize[$1] }
            depth[index] = 1 + (nodes[index].inputs.map { depth[$0] }.max() ?? 0)
        }
        let printable = approximateSize[root] <= Double(SymbolicDerivatives.printLimit) && depth[root] <= 400
        let evaluable = approximateSize[root] <= Double(SymbolicDerivatives.evaluationLimit)
        return SymbolicPartial(
            variable: variable, text: printable ? text(root) : nil, treeSize: size[root], distinctSize: distinct,
            repeatedSubexpressions: repeated,
            writtenOut: evaluable ? writtenOut(root, variables: formulaVariables) : nil)
    }

    /// Binding strength of a node as printed: + − 1, × / 2, unary minus (and negative numbers) 3, ^ 4,
    /// numbers, names and calls 5.
    private func precedence(_ index: Int) -> Int {
        switch nodes[index].operation {
        case .add, .subtract: 1
        case .multiply, .reciprocal: 2
        case .negate: 3
        case .power: 4
        case .constant(let value): value < 0 || value.sign == .minus ? 3 : 5
        default: 5
        }
    }

    /// The expression at `index` in the formula language, with the parentheses its structure needs (sums and
    /// products are associative, so a chain prints without them).
    func text(_ index: Int) -> String {
        let node = nodes[index]
        func wrapped(_ input: Int, _ needsParentheses: Bool) -> String {
            needsParentheses ? "(" + text(input) + ")" : text(input)
        }
        let inputs = node.inputs
        switch node.operation {
        case .constant(let value):
            if value.isNaN { return "(0/0)" }
            if value.isInfinite { return value > 0 ? "(1/0)" : "(-1/0)" }
            return formatShort(value)
        case .variable(let name): return name
        case .negate: return "-" + wrapped(inputs[0], precedence(inputs[0]) < 3)
        case .add: return text(inputs[0]) + " + " + text(inputs[1])
        case .subtract: return text(inputs[0]) + " - " + wrapped(inputs[1], precedence(inputs[1]) <= 1)
        case .multiply:
            let left = wrapped(inputs[0], precedence(inputs[0]) < 2)
            if nodes[inputs[1]].operation == .reciprocal {
                let denominator = nodes[inputs[1]].inputs[0]
                return left + "/" + wrapped(denominator, precedence(denominator) <= 2)
            }
            return left + "*" + wrapped(inputs[1], precedence(inputs[1]) < 2)
        case .reciprocal: return "1/" + wrapped(inputs[0], precedence(inputs[0]) <= 2)
        case .power:
            return wrapped(inputs[0], precedence(inputs[0]) < 5) + "^" + wrapped(inputs[1], precedence(inputs[1]) < 3)
        case .maximum, .minimum:
            return (node.operation == .maximum ? "max(" : "min(") + text(inputs[0]) + ", " + text(inputs[1]) + ")"
        case .function(let f): return f.rawValue + "(" + text(inputs[0]) + ")"
        }
    }

    /// The expression written out as a formula: every occurrence of a subexpression its own nodes, as
    /// evaluating the printed text would compute it; variables keep one node each.
    func writtenOut(_ root: Int, variables: [String]) -> Formula {
        var formulaNodes: [FormulaNode] = []
        var variableNodes: [String: Int] = [:]
        // Post-order with an explicit stack: (node, index of the next input to visit, outputs so far).
        var stack: [(node: Int, next: Int, outputs: [Int])] = [(root, 0, [])]
        var finished = -1
        while var top = stack.popLast() {
            if finished >= 0 { top.outputs.append(finished); finished = -1 }
            let node = nodes[top.node]
            if top.next < node.inputs.count {
                top.next += 1
                stack.append(top)
                stack.append((node.inputs[top.next - 1], 0, []))
                continue
            }
            if case .variable(let name) = node.operation {
                if let existing = variableNodes[name] { finished = existing; continue }
                formulaNodes.append(FormulaNode(operation: node.operation, inputs: [], column: 1))
                variableNodes[name] = formulaNodes.count - 1
            } else {
                formulaNodes.append(FormulaNode(operation: node.operation, inputs: top.outputs, column: 1))
            }
            finished = formulaNodes.count - 1
        }
        // The root is visited last, so it is the last node, as a Formula's result must be.
        return Formula(source: text(root), nodes: formulaNodes)
    }
}

extension SymbolicPartial {
    /// The derivative's value at the point `values` (by variable name), by evaluating the written-out
    /// expression on the engine, and the number of operations that evaluation executed; nil when the
    /// expression is too large to write out.
    public func evaluate(at values: [String: Double]) -> (value: Double, operations: Int)? {
        guard let writtenOut else { return nil }
        let point = writtenOut.variables.map { values[$0] ?? .nan }
        var operations = 0
        let value = writtenOut.value(at: point, operationCount: &operations)
        return (value, operations)
    }
}

extension SymbolicDerivatives {
    /// Each partial as a formula, its size against the graph's, and its value at `point` beside the
    /// engine's reverse-mode partial `reference`, numbers with `digits` significant digits.
    public func render(at point: [Double], reference: [Double], digits: Int = 6) -> String {
        let values = Dictionary(uniqueKeysWithValues: zip(formula.variables, point))
        let paths = formula.paths
        var lines: [String] = [
            "Symbolic differentiation of f = \(abbreviated(formula.source))",
            "the graph: \(paths.nodeCount) nodes (every shared value once)", "",
        ]
        for (index, partial) in partials.enumerated() {
            lines.append("∂f/∂\(partial.variable) = " + (partial.text ?? "(too large to print: \(partial.treeSize) nodes written out)"))
            var size = "  \(partial.treeSize) nodes written out, \(partial.distinctSize) distinct"
            if partial.repeatedSubexpressions > 0 {
                size += "; \(partial.repeatedSubexpressions) subexpression\(partial.repeatedSubexpressions == 1 ? "" : "s") computed more than once"
            }
            lines.append(size)
            if let (value, operations) = partial.evaluate(at: values) {
                let difference = Swift.abs(value - reference[index])
                lines.append("  value \(formatSignificant(value, digits: digits)) (\(operations) operations); reverse mode: \(formatSignificant(reference[index], digits: digits)), difference \(formatSignificant(difference, digits: 2))")
            } else {
                lines.append("  too large to evaluate written out (more than \(SymbolicDerivatives.evaluationLimit) nodes); reverse mode: \(formatSignificant(reference[index], digits: digits))")
            }
        }
        if usesBranchesAtPoint {
            lines += ["", "max, min, relu and abs are differentiated on the branch they take at this point: the expressions hold only where the same branches are taken."]
        }
        return lines.joined(separator: "\n")
    }
}
