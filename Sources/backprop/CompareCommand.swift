import ArgumentParser
import BackpropTeaching
import BackpropCommandLine

/// `backprop compare`: lecture 004's differentiation methods side by side on one formula.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Reverse mode, forward mode, symbolic differentiation and finite differences side by side.",
        discussion: """
            One row per method: the partials, their largest error against reverse mode, the passes or \
            evaluations, the operations executed (counted) and the time; under it the graph's nodes, edges and \
            input-to-output paths. Intermediates (name = expression;) share a value, as lecture 004's a, b, c: \
            backprop compare "a = x*y; b = a*a + a; c = b*b + b; c*c + c" --at x=0.5,y=0.8
            """)

    @Argument(help: "The formula, e.g. \"z + sin(x^2 + y*exp(z))\".")
    var formula: String

    @Option(help: ArgumentHelp("Each variable's value, e.g. x=2,y=-1,z=0.", valueName: "name=value,..."))
    var at: String = ""

    @Option(help: "Significant digits of the partials.")
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
        let comparison = MethodComparison(formula: expression, at: point)
        print(comparison.render(digits: digits))
        if let explanation = expression.nonFiniteExplanation(at: point) { print("\nnote: " + explanation) }
    }
}
