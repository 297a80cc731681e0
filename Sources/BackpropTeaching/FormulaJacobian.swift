// Lecture 001's Jacobians on the student's own vector function: one formula per output, every entry from the
// engine's `jacobian(at:mode:of:)`, by forward passes (one per input) or reverse passes (one per output).

import Backprop

/// A vector function: one formula per output, over the union of their variables.
public struct VectorFunction: Sendable {
    /// The outputs' formulas.
    public let outputs: [Formula]
    /// Every variable of any output, in the order they first appear.
    public let variables: [String]

    /// A vector function of `outputs`.
    public init(outputs: [Formula]) {
        self.outputs = outputs
        var seen: [String] = []
        for formula in outputs { for name in formula.variables where !seen.contains(name) { seen.append(name) } }
        variables = seen
    }

    /// The outputs' values, each formula reading its variables out of `inputs` (one per variable of the
    /// vector function), stacked into one tensor.
    func stackedOutputs(_ inputs: [Tensor<Double>]) -> Tensor<Double> {
        Tensor(stacking: outputs.map { formula in
            let mine = formula.variables.map { inputs[variables.firstIndex(of: $0)!] }
            return formula.engineValues(variables: mine, probes: nil).last!
        })
    }

    /// The Jacobian at `point` (one value per variable) by `mode`, or by the cheaper mode when nil (forward
    /// when there are fewer inputs than outputs, as the engine chooses).
    public func jacobian(at point: [Double], mode: JacobianMode? = nil) -> FormulaJacobian {
        precondition(point.count == variables.count, "jacobian(at:): \(variables.count) values needed")
        let chosen = mode ?? (variables.count < outputs.count ? .forward : .reverse)
        let inputs = point.map { Tensor<Double>($0) }
        var values: [Double] = []
        let columns = Backprop.jacobian(at: inputs, mode: chosen) { xs in
            let y = stackedOutputs(xs)
            values = y.detached().scalars
            return y
        }
        let matrix = outputs.indices.map { j in columns.map { $0.scalars[j] } }
        return FormulaJacobian(function: self, point: point, values: values, matrix: matrix, mode: chosen)
    }
}

/// The Jacobian of a vector function at a point.
public struct FormulaJacobian: Sendable {
    /// The function.
    public let function: VectorFunction
    /// The point, one value per variable.
    public let point: [Double]
    /// The outputs' values.
    public let values: [Double]
    /// Rows = outputs, columns = variables: entry [j][k] = ∂fⱼ/∂xₖ.
    public let matrix: [[Double]]
    /// The mode that computed it.
    public let mode: JacobianMode

    /// How many passes the mode took: one forward pass per input or one reverse pass per output.
    public var passes: Int { mode == .forward ? function.variables.count : function.outputs.count }

    /// How many passes each mode needs, as a sentence.
    public var passSummary: String {
        let n = function.variables.count, m = function.outputs.count
        let used = mode == .forward ? "forward" : "reverse"
        return "\(used) mode: \(passes) pass\(passes == 1 ? "" : "es"); forward mode takes one per input (\(n)), reverse mode one per output (\(m))"
    }

    /// The matrix as an aligned table (rows = outputs, columns = inputs), numbers with `digits` significant digits.
    public func render(digits: Int = 6) -> String {
        let header = ["", "value"] + function.variables.map { "∂/∂\($0)" }
        var rows = [header]
        for (j, formula) in function.outputs.enumerated() {
            rows.append(["f\(j + 1) = \(formula.source)", formatSignificant(values[j], digits: digits)]
                + matrix[j].map { formatSignificant($0, digits: digits) })
        }
        let point = zip(function.variables, point).map { "\($0) = \(formatShort($1))" }.joined(separator: ", ")
        return "Jacobian at \(point)\n\n" + renderTable(rows) + "\n\n" + passSummary
    }

    /// One JSON object: the variables, the outputs' formulas and values, the matrix (rows = outputs), the
    /// mode and its pass count, every number with 17 significant digits (non-finite ones as null).
    public var json: String {
        let rows = matrix.map { "[" + $0.map(jsonNumber).joined(separator: ", ") + "]" }
        return "{\"variables\": [\(function.variables.map(jsonString).joined(separator: ", "))], "
            + "\"point\": [\(point.map(jsonNumber).joined(separator: ", "))], "
            + "\"outputs\": [\(function.outputs.map { jsonString($0.source) }.joined(separator: ", "))], "
            + "\"values\": [\(values.map(jsonNumber).joined(separator: ", "))], "
            + "\"jacobian\": [\(rows.joined(separator: ", "))], "
            + "\"mode\": \"\(mode == .forward ? "forward" : "reverse")\", \"passes\": \(passes)}"
    }

    /// Each pass the mode took, as lecture tables: for forward mode one table per input seeded, listing every
    /// output's nodes; for reverse mode one backward table per output.
    public func renderPasses(digits: Int = 6) -> String {
        var sections: [String] = []
        switch mode {
        case .forward:
            for (k, variable) in function.variables.enumerated() {
                var parts = ["Forward pass \(k + 1) of \(passes): seed \(variable)\u{307} = 1, the other inputs' tangents 0; column ∂f/∂\(variable)"]
                for (j, formula) in function.outputs.enumerated() {
                    let mine = formula.variables.map { point[function.variables.firstIndex(of: $0)!] }
                    let trace = ForwardModeTrace(formula: formula, at: mine)
                    if let pass = trace.passes.first(where: { $0.variable == variable }) {
                        parts.append("f\(j + 1) = \(formula.source)\n\n" + trace.table(for: pass, digits: digits) + "\n\n∂f\(j + 1)/∂\(variable) = \(formatSignificant(pass.partial, digits: digits))")
                    } else {
                        parts.append("f\(j + 1) = \(formula.source) does not read \(variable): ∂f\(j + 1)/∂\(variable) = 0")
                    }
                }
                sections.append(parts.joined(separator: "\n\n"))
            }
        case .reverse:
            for (j, formula) in function.outputs.enumerated() {
                let mine = formula.variables.map { point[function.variables.firstIndex(of: $0)!] }
                let trace = Trace(graph: formula.graph(at: mine))
                sections.append("Reverse pass \(j + 1) of \(passes): seed ∂f\(j + 1)/∂f\(j + 1) = 1; row f\(j + 1)\n\n" + trace.render(digits: digits))
            }
        }
        return sections.joined(separator: "\n\n")
    }
}
