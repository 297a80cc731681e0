// The expression AST: a flat list of nodes in evaluation order, so nothing that walks it needs recursion.

/// A one-argument function of the expression language.
public enum ElementaryFunction: String, CaseIterable, Sendable {
    /// The functions, named as a formula calls them.
    case sin, cos, tan, exp, log, sqrt, tanh, sigmoid, relu, abs

    /// The function that `name` calls in a formula (`σ` is a synonym of `sigmoid`), or nil.
    public init?(name: String) {
        if name == "σ" { self = .sigmoid; return }
        self.init(rawValue: name)
    }

    /// The symbol the traces print, as the lectures write it (σ for the sigmoid).
    public var symbol: String { self == .sigmoid ? "σ" : rawValue }
}

/// What one node of a formula computes.
public enum Operation: Hashable, Sendable {
    /// A number written in the formula.
    case constant(Double)
    /// A named input; each name is one node however often the formula uses it.
    case variable(String)
    /// −a.
    case negate
    /// a + b.
    case add
    /// a − b.
    case subtract
    /// a · b.
    case multiply
    /// 1 / a; the formula's `a / b` is `a · (1/b)`, as lecture 002 draws it.
    case reciprocal
    /// a raised to b.
    case power
    /// The larger of a and b.
    case maximum
    /// The smaller of a and b.
    case minimum
    /// f(a).
    case function(ElementaryFunction)

    /// How many inputs the operation takes.
    public var arity: Int {
        switch self {
        case .constant, .variable: 0
        case .negate, .reciprocal, .function: 1
        case .add, .subtract, .multiply, .power, .maximum, .minimum: 2
        }
    }

    /// The operation with dots for its inputs, as lecture 002's tables name nodes: `· + ·`, `1/·`, `σ(·)`.
    public var symbol: String {
        switch self {
        case .constant(let value): formatShort(value)
        case .variable(let name): name
        case .negate: "−·"
        case .add: "· + ·"
        case .subtract: "· − ·"
        case .multiply: "· × ·"
        case .reciprocal: "1/·"
        case .power: "·^·"
        case .maximum: "max(·, ·)"
        case .minimum: "min(·, ·)"
        case .function(let f): "\(f.symbol)(·)"
        }
    }
}

/// One node of a formula: an operation applied to earlier nodes.
public struct FormulaNode: Equatable, Sendable {
    /// What the node computes.
    public var operation: Operation
    /// The indices of the nodes it reads, all smaller than its own index.
    public var inputs: [Int]
    /// The 1-based column in the source where the node's operator, name or number appears.
    public var column: Int
}

/// A parsed formula: nodes in evaluation order (every node after its inputs), the last one the result.
///
/// A subexpression typed twice is two nodes; a variable used twice is one node read twice (fan-out).
public struct Formula: Sendable {
    /// The formula as typed.
    public let source: String
    /// The nodes in evaluation order; `nodes.last` is the result.
    public let nodes: [FormulaNode]
    /// The variables' names in the order they first appear.
    public let variables: [String]

    /// The index of the result node.
    public var root: Int { nodes.count - 1 }

    /// The names the formula gives to intermediate nodes (`a` of `a = x*y; …`), by node index.
    public let intermediateNames: [Int: String]

    /// Creates a formula from nodes already in evaluation order.
    init(source: String, nodes: [FormulaNode], intermediateNames: [Int: String] = [:]) {
        self.source = source
        self.nodes = nodes
        self.intermediateNames = intermediateNames
        variables = nodes.compactMap { node in
            if case .variable(let name) = node.operation { return name }
            return nil
        }
    }

    /// For each node, the indices of the nodes that read it (a node reading it twice appears twice).
    public var consumers: [[Int]] {
        var result = [[Int]](repeating: [], count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for input in node.inputs { result[input].append(index) }
        }
        return result
    }
}

/// `value` in the shortest form that reads back exactly (`2`, not `2.0`).
func formatShort(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), Swift.abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
}
