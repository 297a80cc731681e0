import ArgumentParser
import BackpropTeaching
import BackpropCommandLine

/// `backprop check`: reverse mode against central finite differences for every variable of a formula.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare reverse-mode partial derivatives with central finite differences.",
        discussion: "Exit status 0 when every relative error is within --tolerance, 1 when one is not, 2 for bad input.")

    @Argument(help: "The formula, e.g. \"x1^2*x2 + cos(x3)\".")
    var formula: String

    @Option(help: ArgumentHelp("Each variable's value, e.g. x=2,y=-1.", valueName: "name=value,..."))
    var at: String = ""

    @Option(help: "The finite-difference step h.")
    var step: Double = 1e-6

    @Option(help: "The largest acceptable relative error.")
    var tolerance: Double = 1e-6

    func run() throws {
        guard step > 0, step.isFinite else { throw UserError("--step must be a positive number, got \(step)") }
        guard tolerance >= 0 else { throw UserError("--tolerance must not be negative, got \(tolerance)") }
        let report: GradientCheckReport
        do {
            report = try Formula(parsing: formula).checkGradients(at: VariableValues(parsing: at), stepSize: step)
        } catch {
            throw UserError(String(describing: error))
        }
        print(report.render(tolerance: tolerance))
        if !report.passes(tolerance: tolerance) { throw ExitCode(1) }
    }
}
