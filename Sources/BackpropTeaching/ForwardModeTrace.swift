// Lecture 004's forward mode, node by node: one pass per input, every node carrying its value and its tangent
// v̇ = ∂v/∂input (seeded 1 at that input), formed from its inputs' tangents by the chain rule.

import Backprop

/// One row of a forward-mode pass: a node's value, its local derivatives and its tangent.
public struct ForwardTangentStep: Sendable {
    /// The node's index in the formula.
    public var node: Int
    /// The node's name (as in the reverse-mode tables).
    public var name: String
    /// The node's value.
    public var value: Double
    /// ∂o/∂iₖ for each input.
    public var localPartials: [Double]
    /// The inputs' names and tangents, in order.
    public var inputTangents: [(name: String, tangent: Double)]
    /// The node's tangent ȯ = Σₖ ∂o/∂iₖ · i̇ₖ, from the engine's forward mode.
    public var tangent: Double
}

/// The forward-mode pass seeded at one input.
public struct ForwardModePass: Sendable {
    /// The variable whose tangent is seeded 1 (the others 0).
    public var variable: String
    /// Variables and operations in evaluation order.
    public var steps: [ForwardTangentStep]
    /// The result's tangent: ∂f/∂variable.
    public var partial: Double
}

/// Forward mode on a formula: one pass per variable, each giving one partial derivative.
///
/// Values and tangents come from the engine (`valueWithJVP`, on a function returning every node's value, so
/// that one forward sweep yields every node's tangent); local derivatives come from
/// `Operation.localPartials`, and tests check that each tangent is the sum of its inputs' tangents times
/// them.
public struct ForwardModeTrace: Sendable {
    /// The formula.
    public let formula: Formula
    /// Each node's value.
    public let values: [Double]
    /// One pass per variable, in the formula's order.
    public let passes: [ForwardModePass]

    /// The passes of `formula` at `point` (one value per variable, in the formula's order).
    public init(formula: Formula, at point: [Double]) {
        precondition(point.count == formula.variables.count, "ForwardModeTrace: \(formula.variables.count) values needed")
        self.formula = formula
        let inputs = point.map { Tensor<Double>($0) }
        let names = formula.nodeNames
        var values: [Double] = []
        var passes: [ForwardModePass] = []
        for (k, variable) in formula.variables.enumerated() {
            let seed = formula.variables.indices.map { Tensor<Double>($0 == k ? 1 : 0) }
            let (value, tangent) = valueWithJVP(at: inputs, along: seed) { xs in
                Tensor(stacking: formula.engineValues(variables: xs, probes: nil))
            }
            values = value.scalars
            let tangents = tangent.scalars
            var steps: [ForwardTangentStep] = []
            for (index, node) in formula.nodes.enumerated() where !node.isConstant {
                steps.append(ForwardTangentStep(
                    node: index, name: names[index], value: values[index],
                    localPartials: node.operation.localPartials(inputs: node.inputs.map { values[$0] }, output: values[index]),
                    inputTangents: node.inputs.map { (names[$0], tangents[$0]) }, tangent: tangents[index]))
            }
            passes.append(ForwardModePass(variable: variable, steps: steps, partial: tangents[formula.root]))
        }
        self.values = values.isEmpty ? formula.withoutRecordingValues(at: point) : values
        self.passes = passes
    }

    /// The partial derivatives, one per variable.
    public var gradient: [Double] { passes.map(\.partial) }

    /// The operations forward mode executes, counted pass by pass as the tables list them: in every pass each
    /// operation node's value (1), each local derivative along an edge from a non-constant input (1 each),
    /// its product with that input's tangent (1 each), and the additions that sum the products.
    public var operationCount: Int {
        var count = 0
        for pass in passes {
            for step in pass.steps where !step.localPartials.isEmpty {
                let edges = formula.nodes[step.node].inputs.filter { !formula.nodes[$0].isConstant }.count
                count += 1 + 2 * edges + Swift.max(0, edges - 1)
            }
        }
        return count
    }

    /// The table of one pass: every node's value, local derivatives and tangent, and how the tangent is formed.
    public func table(for pass: ForwardModePass, digits: Int = 6) -> String {
        func number(_ value: Double) -> String { formatSignificant(value, digits: digits) }
        let names = formula.nodeNames
        var rows: [[String]] = [["node", "operation", "value o", "local ∂o/∂i", "tangent ȯ = Σ ∂o/∂i · i̇"]]
        for step in pass.steps {
            let node = formula.nodes[step.node]
            if node.inputs.isEmpty {
                rows.append([step.name, "input", number(step.value), "", number(step.tangent) + (step.name == pass.variable ? " (seed)" : "")])
                continue
            }
            let live = node.inputs.indices.filter { !formula.nodes[node.inputs[$0]].isConstant }
            let labels = live.count == 1 ? ["i"] : live.indices.map { "i\($0 + 1)" }
            let local = zip(live, labels).map { "∂o/∂\($1) = \(number(step.localPartials[$0]))" }.joined(separator: ", ")
            let terms = live.map { "\(number(step.localPartials[$0])) · \(number(step.inputTangents[$0].tangent))" }
            let formed = (terms.isEmpty ? "0" : terms.joined(separator: " + ")) + " = \(number(step.tangent))"
            rows.append([step.name, formula.operationSymbol(step.node) + inputsNote(step.node, names), number(step.value), local, formed])
        }
        return renderTable(rows)
    }

    /// One table per pass, numbers with `digits` significant digits, and a last line counting the passes each
    /// mode needs.
    public func render(digits: Int = 6) -> String {
        var sections: [String] = []
        for (k, pass) in passes.enumerated() {
            let others = formula.variables.filter { $0 != pass.variable }.map { "\($0)\u{307}" }
            let seed = "seed \(pass.variable)\u{307} = 1" + (others.isEmpty ? "" : " (" + others.joined(separator: " = ") + " = 0)")
            sections.append("""
                Forward mode, pass \(k + 1) of \(passes.count): \(seed)

                \(table(for: pass, digits: digits))

                ∂f/∂\(pass.variable) = ḟ = \(formatSignificant(pass.partial, digits: digits))
                """)
        }
        let n = passes.count
        let summary = "forward mode: \(n) pass\(n == 1 ? "" : "es") for \(n) input\(n == 1 ? "" : "s") (one per input); reverse mode: 1 pass for all \(n) partial\(n == 1 ? "" : "s")"
        return (sections + [summary]).joined(separator: "\n\n")
    }

    /// The names of a node's non-constant inputs, as " of x, v1" (empty for none).
    private func inputsNote(_ index: Int, _ names: [String]) -> String {
        let inputs = formula.nodes[index].inputs.filter { !formula.nodes[$0].isConstant }.map { names[$0] }
        return inputs.isEmpty ? "" : " of " + inputs.joined(separator: ", ")
    }
}

extension Formula {
    /// The value and every partial derivative at `point` by forward mode on the engine: one `valueWithJVP`
    /// pass per variable, each seeded 1 at that variable.
    public func forwardModeGradient(at point: [Double]) -> GradientResult {
        precondition(point.count == variables.count, "forwardModeGradient(at:): \(variables.count) values needed")
        let inputs = point.map { Tensor<Double>($0) }
        var value = point.isEmpty ? self.value(at: point) : 0
        let partials = variables.indices.map { k in
            let seed = variables.indices.map { Tensor<Double>($0 == k ? 1 : 0) }
            let (y, tangent) = valueWithJVP(at: inputs, along: seed) { xs in engineValues(variables: xs, probes: nil).last! }
            value = y.scalar
            return tangent.scalar
        }
        return GradientResult(variables: variables, point: point, value: value, gradient: partials)
    }
}
