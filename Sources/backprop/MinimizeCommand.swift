import ArgumentParser
import BackpropTeaching

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

    @Option(parsing: .unconditional, help: "The most steps to take.")
    var steps: Int = 1000

    @Option(parsing: .unconditional, help: "Decrease the step size as η / (1 + decay·k) at step k.")
    var decay: Double = 0

    @Option(parsing: .unconditional, help: "Stop once ‖∇f‖ is at most this.")
    var tolerance: Double = 0

    @Option(help: ArgumentHelp("Draw the contours of a two-variable formula and the path to this SVG file.", valueName: "file.svg"))
    var plot: String?

    func run() throws {
        guard steps >= 0 else { throw UserError("--steps must not be negative, got \(steps)") }
        guard learningRate > 0, learningRate.isFinite else { throw UserError("--lr must be a positive number, got \(learningRate)") }
        guard decay >= 0, decay.isFinite else { throw UserError("--decay must not be negative, got \(decay)") }
        guard tolerance >= 0 else { throw UserError("--tolerance must not be negative, got \(tolerance)") }
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
            // Fail on an unwritable file before the descent rather than after it.
            do { try writeText("", to: plot) } catch { throw UserError(String(describing: error)) }
        }
        let descent = GradientDescent(learningRate: learningRate, steps: steps, decay: decay, tolerance: tolerance)
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
        if let plot {
            let title = "\(formula): \(result.stepCount) steps of gradient descent, η = \(learningRate)" + (decay > 0 ? ", decay \(decay)" : "")
            do {
                try writeText(try ContourPlot().svg(of: expression, path: result.path, title: title), to: plot)
            } catch {
                throw UserError(String(describing: error))
            }
            print("plot: \(plot)")
        }
    }
}
