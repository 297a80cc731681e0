import ArgumentParser
import BackpropTeaching
import BackpropCommandLine

/// `backprop grad`: a formula's value and every partial derivative at a point, with the lecture tables and
/// the computation graph on request.
struct GradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grad",
        abstract: "The value and every partial derivative of a formula at a point.",
        discussion: """
            Formulas use numbers, variables, + - * / ^ (** too), unary minus, parentheses and \
            sin cos tan exp log sqrt tanh sigmoid (σ) relu abs max(a, b) min(a, b). \
            Intermediates share a value: "a = x*y; b = a*a + a; b*b". \
            Example: backprop grad "(x + σ(x)) / (σ(x) + (x + y)^2)" --at x=4,y=3 --trace
            """)

    @Argument(help: "The formula, e.g. \"z + sin(x^2 + y*exp(z))\".")
    var formula: String

    @Option(help: ArgumentHelp("Each variable's value, e.g. x=2,y=-1,z=0.", valueName: "name=value,..."))
    var at: String = ""

    @Flag(help: "Print one JSON object {\"value\": V, \"gradient\": {...}} with 17 significant digits.")
    var json = false

    @Flag(help: "Print the tables node by node: lecture 002's forward and backward passes, or with --mode forward one forward-mode pass per input.")
    var trace = false

    @Option(help: "How to differentiate: reverse (one forward and one backward pass) or forward (one pass per input).")
    var mode: DifferentiationMode = .reverse

    @Flag(help: "Print each partial derivative as a formula (symbolic differentiation), its size against the graph's, and its value beside reverse mode's.")
    var symbolic = false

    @Option(help: "Significant digits in the tables and the graph.")
    var digits: Int = 6

    @Option(help: ArgumentHelp("Write the computation graph in Graphviz DOT to this file.", valueName: "file"))
    var dot: String?

    @Option(help: ArgumentHelp("Render the computation graph to SVG with Graphviz's dot.", valueName: "file"))
    var svg: String?

    func run() throws {
        guard (1...17).contains(digits) else { throw UserError("--digits must be between 1 and 17, got \(digits)") }
        guard !(json && trace) else { throw UserError("--json and --trace cannot be combined: --json prints one JSON object") }
        guard !(symbolic && (json || trace)) else { throw UserError("--symbolic cannot be combined with --json or --trace") }
        guard !(symbolic && mode == .forward) else { throw UserError("--symbolic prints symbolic derivatives; it cannot be combined with --mode forward") }
        let graph: ComputationGraph
        let values: VariableValues
        do {
            let expression = try Formula(parsing: formula)
            values = try VariableValues(parsing: at)
            graph = try expression.graph(at: values)
        } catch {
            throw UserError(String(describing: error))
        }
        let point = graph.formula.variables.map { values[$0]! }
        var files = RunFiles()
        if let dot { files.writes(dot, flag: "--dot") }
        if let svg { files.writes(svg, flag: "--svg") }
        try files.check()
        // Write files first, so a bad path fails before anything is printed.
        do {
            if let dot { try writeText(graph.dot(digits: digits), to: dot) }
            if let svg { try renderSVG(dot: graph.dot(digits: digits), to: svg) }
        } catch {
            throw UserError(String(describing: error))
        }
        var result = graph.result
        if mode == .forward {
            let forward = ForwardModeTrace(formula: graph.formula, at: point)
            result = GradientResult(variables: graph.formula.variables, point: point, value: graph.value, gradient: forward.gradient)
            if trace {
                print(forward.render(digits: digits))
            } else if !json {
                print(result.report(formula: formula))
                let n = point.count
                print("\nforward mode: \(n) pass\(n == 1 ? "" : "es"), one per input (reverse mode needs 1 for all of them)")
            }
        } else if symbolic {
            let derivatives = graph.formula.symbolicDerivatives(at: point)
            print(derivatives.render(at: point, reference: graph.result.gradient, digits: digits))
        } else if trace {
            print(Trace(graph: graph).render(digits: digits))
        } else if !json {
            print(result.report(formula: formula))
        }
        if json { print(result.json) }
        if !json, !(result.value.isFinite && result.gradient.allSatisfy(\.isFinite)) {
            print("\nnote: " + (graph.formula.nonFiniteExplanation(at: point)
                ?? "a value or partial derivative is not finite at this point (an overflow in an intermediate value)"))
        }
    }
}

/// Reverse or forward mode, as `--mode` names them.
enum DifferentiationMode: String, ExpressibleByArgument, CaseIterable {
    /// One forward pass and one backward sweep for every partial.
    case reverse
    /// One forward pass per input.
    case forward
}
