import ArgumentParser
import BackpropTeaching
import BackpropCommandLine

/// `backprop hessian`: a formula's Hessian at a point and what it says about the point.
struct HessianCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hessian",
        abstract: "The Hessian of a formula at a point, its eigenvalues, and whether the point is a minimum, maximum or saddle.",
        discussion: """
            The Hessian is the engine's forward-mode Jacobian of its reverse-mode gradient. Example \
            (Rosenbrock's minimum): backprop hessian "(1 - x)^2 + 100*(y - x^2)^2" --at x=1,y=1
            """)

    @Argument(help: "The formula.")
    var formula: String

    @Option(help: ArgumentHelp("Each variable's value, e.g. x=1,y=1.", valueName: "name=value,..."))
    var at: String = ""

    @Flag(help: "Print one JSON object: value, gradient, Hessian, eigenvalues and the kind of point.")
    var json = false

    @Option(help: "Significant digits in the table.")
    var digits: Int = 6

    func run() throws {
        guard (1...17).contains(digits) else { throw UserError("--digits must be between 1 and 17, got \(digits)") }
        let expression: Formula
        let point: [Double]
        do {
            expression = try Formula(parsing: formula)
            point = try VariableValues(parsing: at).values(for: expression)
        } catch {
            throw UserError(String(describing: error))
        }
        let analysis = expression.hessianAnalysis(at: point)
        if json {
            print(analysis.json)
            return
        }
        print(analysis.render(digits: digits))
        let finite = analysis.value.isFinite && analysis.gradient.allSatisfy(\.isFinite) && analysis.matrix.allSatisfy { $0.allSatisfy(\.isFinite) }
        if !finite {
            print("note: " + (expression.nonFiniteExplanation(at: point)
                ?? "a second derivative is not finite here: a local derivative's own derivative does not exist or overflows at this point"))
        }
    }
}
