import ArgumentParser
import BackpropTeaching
import BackpropCommandLine

/// `backprop minimize`: lecture 000's gradient descent on a formula, with an optional contour plot.
struct MinimizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "minimize",
        abstract: "Gradient descent x ← x − η·∇f(x) from a starting point, with gradients by reverse mode.",
        discussion: """
            The step size of step k is η / (1 + decay·k). Example (Rosenbrock, lecture 000): \
            backprop minimize "(1 - x)^2 + 100*(y - x^2)^2" --from x=-1.8,y=1.5 --lr 0.001 --steps 20000 --plot rosenbrock.svg
            """)

    @Argument(help: "The formula to minimize.")
    var formula: String

    @Option(help: ArgumentHelp("The starting point, e.g. x=-1.8,y=1.5.", valueName: "name=value,..."))
    var from: String = ""

    @Option(name: .customLong("lr"), parsing: .unconditional, help: "The step size η (learning rate).")
    var learningRate: Double = 1e-3

    @Option(parsing: .unconditional, help: "The most steps to take (default 1000 for gd, 100 for newton).")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Decrease the step size as η / (1 + decay·k) at step k (gd only).")
    var decay: Double = 0

    @Option(parsing: .unconditional, help: "Stop once ‖∇f‖ is at most this (default 0 for gd, 1e-8 for newton and --compare).")
    var tolerance: Double?

    @Option(help: "gd (gradient descent, the default) or newton (Newton's method with the engine's Hessian, a shift for indefinite Hessians and a backtracking line search).")
    var method: MinimizationMethod = .gd

    @Flag(help: "Run both gradient descent and Newton's method from the same start, compare them, and with --plot draw both paths.")
    var compare = false

    @Option(help: ArgumentHelp("Draw the contours of a two-variable formula and the path to this SVG file.", valueName: "file.svg"))
    var plot: String?

    func run() throws {
        if let steps, steps < 0 { throw UserError("--steps must not be negative, got \(steps)") }
        guard learningRate > 0, learningRate.isFinite else { throw UserError("--lr must be a positive number, got \(learningRate)") }
        guard decay >= 0, decay.isFinite else { throw UserError("--decay must not be negative, got \(decay)") }
        if let tolerance, !(tolerance >= 0) { throw UserError("--tolerance must not be negative, got \(tolerance)") }
        let expression: Formula
        let start: [Double]
        do {
            expression = try Formula(parsing: formula)
            start = try VariableValues(parsing: from).values(for: expression)
        } catch {
            throw UserError(String(describing: error))
        }
        if plot != nil, expression.variables.count != 2 {
            throw UserError("--plot needs a formula of two variables; \(formula) has \(expression.variables.count)")
        }
        if let plot {
            // Fail on an unwritable file before the descent rather than after it, without touching the file.
            try checkWritable(plot, flag: "--plot")
        }
        var paths: [(label: String, points: [[Double]])] = []
        var summaries: [[String]] = [["method", "steps", "final point", "f", "‖∇f‖", "stopped"]]
        var title = ""
        if method == .gd || compare {
            let descent = GradientDescent(
                learningRate: learningRate, steps: steps ?? 1000, decay: decay, tolerance: tolerance ?? (compare ? 1e-8 : 0))
            if compare { print("Gradient descent, η = \(learningRate)" + (decay > 0 ? ", decay \(decay)" : "") + "\n") }
            print(GradientDescentStep.progressHeader(variables: expression.variables))
            var lastPrinted = -1
            var last: GradientDescentStep?
            let result = descent.minimize(expression, from: start) { step in
                last = step
                if descent.reportsProgress(atStep: step.iteration) {
                    print(step.progressLine)
                    lastPrinted = step.iteration
                }
            }
            if let last, last.iteration != lastPrinted { print(last.progressLine) }
            print("")
            print(result.summary(settings: descent))
            paths.append(("gradient descent: \(result.stepCount) steps", result.path))
            summaries.append(summaryRow("gradient descent", result, gradientNorm: last?.gradientNorm ?? .nan))
            title = "\(formula): \(result.stepCount) steps of gradient descent, η = \(learningRate)" + (decay > 0 ? ", decay \(decay)" : "")
        }
        if method == .newton || compare {
            if compare { print("\nNewton's method\n") }
            let newton = NewtonMethod(steps: steps ?? 100, tolerance: tolerance ?? 1e-8)
            print(NewtonStep.progressHeader(variables: expression.variables))
            var lastNorm = Double.nan
            let result = newton.minimize(expression, from: start) { step in
                print(step.progressLine)
                lastNorm = step.gradientNorm
            }
            print("")
            print(result.newtonSummary(settings: newton))
            paths.append(("Newton's method: \(result.stepCount) steps", result.path))
            summaries.append(summaryRow("Newton's method", result, gradientNorm: lastNorm))
            title = "\(formula): \(result.stepCount) Newton steps"
        }
        if compare {
            print("\n" + renderTableForCLI(summaries))
            title = "\(formula): gradient descent against Newton's method"
        }
        if let plot {
            let svg: String
            do { svg = try ContourPlot().svg(of: expression, paths: compare ? paths : paths.map { ("", $0.points) }, title: title) } catch {
                throw UserError(String(describing: error))
            }
            try writeText(svg, to: plot, flag: "--plot")
            print("plot: \(plot)")
        }
    }

    /// One row of the comparison table.
    private func summaryRow(_ name: String, _ result: GradientDescentResult, gradientNorm: Double) -> [String] {
        let point = "(" + result.point.map { formatSignificant($0, digits: 10) }.joined(separator: ", ") + ")"
        let reason: String
        switch result.outcome {
        case .converged: reason = "converged"
        case .stepLimitReached: reason = "step limit"
        case .diverged: reason = "diverged"
        }
        return [name, "\(result.stepCount)", point, formatSignificant(result.value, digits: 6), formatSignificant(gradientNorm, digits: 3), reason]
    }
}

/// gd or newton, as `--method` names them.
enum MinimizationMethod: String, ExpressibleByArgument, CaseIterable {
    /// Gradient descent.
    case gd
    /// Newton's method.
    case newton
}
