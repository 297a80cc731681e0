// Reverse mode against central finite differences, variable by variable.

import Backprop

/// Reverse-mode partial derivatives beside central finite differences, with each relative error.
public struct GradientCheckReport: Sendable {
    /// The variables, in the order their values were given.
    public var variables: [String]
    /// ∂f/∂variable by reverse mode on the engine.
    public var reverseMode: [Double]
    /// (f(x + h) − f(x − h)) / 2h for each variable.
    public var finiteDifferences: [Double]
    /// |reverse − finite| / max(1, |reverse|, |finite|) for each variable (the core's `checkGradients` measure).
    public var relativeErrors: [Double]
    /// The step h.
    public var stepSize: Double

    /// The largest relative error (0 for a formula without variables).
    public var maxRelativeError: Double { relativeErrors.max() ?? 0 }

    /// Whether every relative error is at most `tolerance` (a NaN error fails).
    public func passes(tolerance: Double) -> Bool { relativeErrors.allSatisfy { $0 <= tolerance } }

    /// A table: variable, reverse mode, finite differences, relative error; then the verdict.
    public func render(tolerance: Double) -> String {
        var rows = [["variable", "reverse mode", "finite differences (h = \(stepSize))", "relative error"]]
        for k in variables.indices {
            rows.append([variables[k], "\(reverseMode[k])", "\(finiteDifferences[k])", formatSignificant(relativeErrors[k], digits: 3)])
        }
        let verdict = passes(tolerance: tolerance)
            ? "ok: every relative error is at most \(tolerance)"
            : "FAILED: largest relative error \(formatSignificant(maxRelativeError, digits: 3)) exceeds \(tolerance)"
        return renderTable(rows) + "\n\n" + verdict
    }
}

extension Formula {
    /// Compares reverse-mode partial derivatives with central finite differences at the point `values`
    /// gives, using the core's `checkGradients`.
    ///
    /// - Throws: `FormulaError` for a variable without a value, `VariableValuesError` for an unknown name.
    public func checkGradients(at values: VariableValues, stepSize h: Double = 1e-6) throws -> GradientCheckReport {
        let point = try values.values(for: self)
        let check = Backprop.checkGradients(at: point.map { Tensor($0) }, stepSize: h) { inputs in
            engineValues(variables: inputs, probes: nil).last!
        }
        let analytic = check.analytic.map(\.scalar)
        let numeric = check.numeric.map(\.scalar)
        let errors = zip(analytic, numeric).map { a, n in
            let e = Swift.abs(a - n) / Swift.max(1, Swift.abs(a), Swift.abs(n))
            return e.isNaN ? Double.infinity : e
        }
        return GradientCheckReport(
            variables: variables, reverseMode: analytic, finiteDifferences: numeric, relativeErrors: errors, stepSize: h)
    }
}
