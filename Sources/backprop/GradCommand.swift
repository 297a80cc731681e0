import ArgumentParser
import BackpropTeaching

/// `backprop grad`: a formula's value and every partial derivative at a point, with the lecture tables and
/// the computation graph on request.
struct GradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grad",
        abstract: "The value and every partial derivative of a formula at a point.",
        discussion: """
            Formulas use numbers, variables, + - * / ^ (** too), unary minus, parentheses and \
            sin cos tan exp log sqrt tanh sigmoid (σ) relu abs max(a, b) min(a, b). \
            Example: backprop grad "(x + σ(x)) / (σ(x) + (x + y)^2)" --at x=4,y=3 --trace
            """)

    @Argument(help: "The formula, e.g. \"z + sin(x^2 + y*exp(z))\".")
    var formula: String

    @Option(help: ArgumentHelp("Each variable's value, e.g. x=2,y=-1,z=0.", valueName: "name=value,..."))
    var at: String = ""

    @Flag(help: "Print one JSON object {\"value\": V, \"gradient\": {...}} with 17 significant digits.")
    var json = false

    @Flag(help: "Print lecture 002's forward and backward tables, node by node.")
    var trace = false

    @Option(help: "Significant digits in the tables and the graph.")
    var digits: Int = 6

    @Option(help: ArgumentHelp("Write the computation graph in Graphviz DOT to this file.", valueName: "file"))
    var dot: String?

    @Option(help: ArgumentHelp("Render the computation graph to SVG with Graphviz's dot.", valueName: "file"))
    var svg: String?

    func run() throws {
        guard (1...17).contains(digits) else { throw UserError("--digits must be between 1 and 17, got \(digits)") }
        guard !(json && trace) else { throw UserError("--json and --trace cannot be combined: --json prints one JSON object") }
        let graph: ComputationGraph
        do {
            let expression = try Formula(parsing: formula)
            graph = try expression.graph(at: try VariableValues(parsing: at))
        } catch {
            throw UserError(String(describing: error))
        }
        // Write files first, so a bad path fails before anything is printed.
        do {
            if let dot { try writeText(graph.dot(digits: digits), to: dot) }
            if let svg { try renderSVG(dot: graph.dot(digits: digits), to: svg) }
        } catch {
            throw UserError(String(describing: error))
        }
        if json {
            print(graph.result.json)
        } else if trace {
            print(Trace(graph: graph).render(digits: digits))
        } else {
            print(graph.result.report(formula: formula))
        }
    }
}
