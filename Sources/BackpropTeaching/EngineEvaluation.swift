// Builds a formula's graph on the core engine (Tensor<Double>) and reads values and gradients from it.

import Backprop

/// The value of a formula at a point and its partial derivative with respect to each variable.
public struct GradientResult: Equatable, Sendable {
    /// The variables' names, in the formula's order.
    public var variables: [String]
    /// The point: one value per variable.
    public var point: [Double]
    /// The formula's value there.
    public var value: Double
    /// ∂value/∂variable, one per variable.
    public var gradient: [Double]

    /// A result of `value` and `gradient` at `point`, one entry per variable of `variables`.
    public init(variables: [String], point: [Double], value: Double, gradient: [Double]) {
        self.variables = variables
        self.point = point
        self.value = value
        self.gradient = gradient
    }

    /// The partial derivative with respect to `name`, or nil if the formula has no such variable.
    public func partial(_ name: String) -> Double? {
        variables.firstIndex(of: name).map { gradient[$0] }
    }

    /// The same result with the variables in the order of `names` (names the result lacks are skipped,
    /// variables `names` lacks follow in their order).
    public func ordered(as names: [String]) -> GradientResult {
        let order = names.compactMap { variables.firstIndex(of: $0) } + variables.indices.filter { !names.contains(variables[$0]) }
        return GradientResult(
            variables: order.map { variables[$0] }, point: order.map { point[$0] }, value: value,
            gradient: order.map { gradient[$0] })
    }
}

/// A formula evaluated node by node at a point: every node's value and, from the engine's reverse sweep,
/// every node's gradient ∂result/∂node.
public struct ComputationGraph: Sendable {
    /// The formula.
    public let formula: Formula
    /// Each node's value.
    public let values: [Double]
    /// Each node's gradient ∂result/∂node from the engine; nil for constants.
    public let gradients: [Double?]
    /// The result's value.
    public var value: Double { values[formula.root] }

    /// The value and the partial derivatives with respect to the variables, in the formula's order (the
    /// order of their first use), as every command of the CLI lists them.
    public var result: GradientResult {
        let indices = formula.variables.map { name in formula.nodes.firstIndex { $0.operation == .variable(name) }! }
        return GradientResult(
            variables: formula.variables, point: indices.map { values[$0] }, value: value,
            gradient: indices.map { gradients[$0] ?? 0 })
    }
}

extension Formula {
    /// Evaluates the nodes in order on the engine; `probes`, when given, holds one tracked zero per node
    /// that is added to the node's output so the engine's gradient for it is the node's gradient.
    func engineValues(variables: [Tensor<Double>], probes: [Tensor<Double>]?) -> [Tensor<Double>] {
        var outputs: [Tensor<Double>] = []
        outputs.reserveCapacity(nodes.count)
        var nextVariable = 0
        for (index, node) in nodes.enumerated() {
            var output: Tensor<Double>
            if case .variable = node.operation {
                output = variables[nextVariable]
                nextVariable += 1
            } else {
                output = node.operation.apply(node.inputs.map { outputs[$0] })
            }
            if let probes, node.arity > 0 { output = output + probes[index] }
            outputs.append(output)
        }
        return outputs
    }

    /// The value and every partial derivative at `point` (one value per variable, in `variables` order), by
    /// one forward pass and one reverse sweep of the engine.
    public func gradient(at point: [Double]) -> GradientResult {
        precondition(point.count == variables.count, "gradient(at:): \(variables.count) values needed, got \(point.count)")
        let (value, gradients) = valueWithGradient(at: point.map { Tensor($0) }) { inputs in
            engineValues(variables: inputs, probes: nil).last!
        }
        return GradientResult(variables: variables, point: point, value: value.scalar, gradient: gradients.map(\.scalar))
    }

    /// The value and every partial derivative at the point `values` gives, the variables in the formula's
    /// order whatever the order of `values`.
    ///
    /// - Throws: `FormulaError` for a variable without a value, `VariableValuesError` for an unknown name.
    public func gradient(at values: VariableValues) throws -> GradientResult {
        gradient(at: try values.values(for: self))
    }

    /// The formula's value at `point`, evaluated on the engine with nothing recorded.
    public func value(at point: [Double]) -> Double {
        withoutRecording { engineValues(variables: point.map { Tensor($0) }, probes: nil).last!.scalar }
    }

    /// The formula's value at `point`, adding to `operationCount` the operations the evaluation executed
    /// (one per operation node: the engine primitive it calls).
    public func value(at point: [Double], operationCount: inout Int) -> Double {
        operationCount += operationNodeCount
        return value(at: point)
    }

    /// The number of nodes that are operations (not numbers or variables): the primitives one evaluation runs.
    public var operationNodeCount: Int { nodes.reduce(0) { $0 + ($1.inputs.isEmpty ? 0 : 1) } }

    /// Every node's value and gradient at `point` (one value per variable), all from the engine.
    public func graph(at point: [Double]) -> ComputationGraph {
        precondition(point.count == variables.count, "graph(at:): \(variables.count) values needed, got \(point.count)")
        var values = [Double](repeating: 0, count: nodes.count)
        let probeCount = nodes.count
        let inputs = point.map { Tensor($0) } + [Tensor<Double>](repeating: Tensor(0), count: probeCount)
        let (_, engineGradients) = valueWithGradient(at: inputs) { tracked in
            let outputs = engineValues(variables: Array(tracked[..<point.count]), probes: Array(tracked[point.count...]))
            for (index, output) in outputs.enumerated() { values[index] = output.scalar }
            return outputs.last!
        }
        var gradients = [Double?](repeating: nil, count: nodes.count)
        var nextVariable = 0
        for (index, node) in nodes.enumerated() {
            switch node.operation {
            case .constant: break
            case .variable:
                gradients[index] = engineGradients[nextVariable].scalar
                nextVariable += 1
            default: gradients[index] = engineGradients[point.count + index].scalar
            }
        }
        return ComputationGraph(formula: self, values: values, gradients: gradients)
    }

    /// Every node's value and gradient at the point `values` gives.
    ///
    /// - Throws: `FormulaError` for a variable without a value, `VariableValuesError` for an unknown name.
    public func graph(at values: VariableValues) throws -> ComputationGraph {
        graph(at: try values.values(for: self))
    }
}

extension FormulaNode {
    /// How many inputs the node reads.
    var arity: Int { inputs.count }
}

extension Operation {
    /// The operation applied to its inputs' values on the engine (a variable's value is its input's).
    ///
    /// Kept out of line, away from the loop over the nodes: with every tensor operation inlined into that
    /// loop, optimising `engineValues` took half of this module's release-build time.
    @inline(never)
    func apply(_ inputs: [Tensor<Double>]) -> Tensor<Double> {
        switch self {
        case .constant(let value): return Tensor(value)
        case .variable(let name): preconditionFailure("Operation.apply: variable '\(name)' has no inputs; its value comes from the point")
        case .negate: return -inputs[0]
        case .add: return inputs[0] + inputs[1]
        case .subtract: return inputs[0] - inputs[1]
        case .multiply: return inputs[0] * inputs[1]
        case .reciprocal: return 1 / inputs[0]
        case .power: return pow(inputs[0], inputs[1])
        case .maximum: return max(inputs[0], inputs[1])
        case .minimum: return min(inputs[0], inputs[1])
        case .function(let f): return f.apply(inputs[0])
        }
    }
}

extension ElementaryFunction {
    /// The function applied to `x` on the engine.
    @inline(never)
    func apply(_ x: Tensor<Double>) -> Tensor<Double> {
        switch self {
        case .sin: Backprop.sin(x)
        case .cos: Backprop.cos(x)
        case .tan: Backprop.tan(x)
        case .exp: Backprop.exp(x)
        case .log: Backprop.log(x)
        case .sqrt: Backprop.sqrt(x)
        case .tanh: Backprop.tanh(x)
        case .sigmoid: Backprop.sigmoid(x)
        case .relu: Backprop.relu(x)
        case .abs: Backprop.abs(x)
        }
    }
}
