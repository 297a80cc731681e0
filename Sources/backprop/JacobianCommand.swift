import ArgumentParser
import Backprop
import BackpropTeaching
import BackpropCommandLine

/// `backprop jacobian`: the Jacobian of a vector function, one formula per output.
struct JacobianCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jacobian",
        abstract: "The Jacobian of a vector function (one formula per output) by forward or reverse passes.",
        discussion: """
            Rows are outputs, columns inputs. Forward mode takes one pass per input, reverse mode one per \
            output; by default the cheaper. Lecture 001's elementwise h = f(z) has a diagonal Jacobian: \
            backprop jacobian "sigmoid(z1)" "sigmoid(z2)" "sigmoid(z3)" --at z1=-1,z2=0,z3=2
            """)

    @Argument(help: "One formula per output.")
    var formulas: [String]

    @Option(help: ArgumentHelp("Each variable's value, e.g. x=1,y=2.", valueName: "name=value,..."))
    var at: String = ""

    @Option(help: "forward (one pass per input) or reverse (one pass per output); the cheaper by default.")
    var mode: DifferentiationMode?

    @Flag(help: "Print one JSON object with the matrix (rows = outputs), values, mode and passes.")
    var json = false

    @Flag(help: "Print every pass as a lecture table.")
    var trace = false

    @Option(help: "Significant digits in the table.")
    var digits: Int = 6

    func run() throws {
        guard (1...17).contains(digits) else { throw UserError("--digits must be between 1 and 17, got \(digits)") }
        guard !formulas.isEmpty else { throw UserError("jacobian needs at least one formula") }
        guard !(json && trace) else { throw UserError("--json and --trace cannot be combined: --json prints one JSON object") }
        let function: VectorFunction
        let point: [Double]
        do {
            var outputs: [Formula] = []
            for (index, text) in formulas.enumerated() {
                do { outputs.append(try Formula(parsing: text)) } catch {
                    throw UserError("output \(index + 1): \(error)")
                }
            }
            function = VectorFunction(outputs: outputs)
            let values = try VariableValues(parsing: at)
            for name in values.names where !function.variables.contains(name) {
                throw UserError("no output reads a variable named '\(name)' (variables: \(function.variables.joined(separator: ", ")))")
            }
            point = try function.variables.map { name in
                guard let value = values[name] else { throw UserError("variable '\(name)' has no value: give it with --at \(name)=…") }
                return value
            }
        } catch let error as UserError {
            throw error
        } catch {
            throw UserError(String(describing: error))
        }
        let chosen: JacobianMode? = mode.map { $0 == .forward ? .forward : .reverse }
        let result = function.jacobian(at: point, mode: chosen)
        if json {
            print(result.json)
            return
        }
        if trace { print(result.renderPasses(digits: digits) + "\n") }
        if function.variables.count > 20 {
            print("the \(function.outputs.count)×\(function.variables.count) Jacobian is too wide to print (more than 20 columns): use --json")
            print(result.passSummary)
        } else {
            print(result.render(digits: digits))
        }
        for (j, formula) in function.outputs.enumerated() where !(result.values[j].isFinite && result.matrix[j].allSatisfy(\.isFinite)) {
            let mine = formula.variables.map { point[function.variables.firstIndex(of: $0)!] }
            print("note: row f\(j + 1) is not finite: " + (formula.nonFiniteExplanation(at: mine) ?? "an intermediate value overflows"))
        }
    }
}
