import Testing
@testable import BackpropTeaching

/// The formula's structure in fully parenthesized prefix form, built without recursion from the node list.
func structure(_ formula: String) throws -> String {
    let expression = try Formula(parsing: formula)
    var text: [String] = []
    for node in expression.nodes {
        let inputs = node.inputs.map { text[$0] }
        switch node.operation {
        case .constant(let value): text.append(formatShort(value))
        case .variable(let name): text.append(name)
        case .negate: text.append("(neg \(inputs[0]))")
        case .add: text.append("(+ \(inputs[0]) \(inputs[1]))")
        case .subtract: text.append("(- \(inputs[0]) \(inputs[1]))")
        case .multiply: text.append("(* \(inputs[0]) \(inputs[1]))")
        case .reciprocal: text.append("(recip \(inputs[0]))")
        case .power: text.append("(^ \(inputs[0]) \(inputs[1]))")
        case .maximum: text.append("(max \(inputs[0]) \(inputs[1]))")
        case .minimum: text.append("(min \(inputs[0]) \(inputs[1]))")
        case .function(let f): text.append("(\(f.rawValue) \(inputs[0]))")
        }
    }
    return text.last ?? ""
}

/// The error parsing `formula` (or evaluating it with `values`) raises.
func parseError(_ formula: String, at values: String = "") -> FormulaError? {
    do {
        _ = try Formula(parsing: formula).gradient(at: VariableValues(parsing: values))
        return nil
    } catch let error as FormulaError {
        return error
    } catch {
        return nil
    }
}

@Suite struct ParserTests {
    @Test func precedenceAndAssociativity() throws {
        #expect(try structure("1 + 2 * 3") == "(+ 1 (* 2 3))")
        #expect(try structure("1 - 2 - 3") == "(- (- 1 2) 3)")
        #expect(try structure("a / b / c") == "(* (* a (recip b)) (recip c))")
        #expect(try structure("2 ^ 3 ^ 2") == "(^ 2 (^ 3 2))")
        #expect(try structure("2 ** 3 ** 2") == "(^ 2 (^ 3 2))")
        #expect(try structure("-x^2") == "(neg (^ x 2))")
        #expect(try structure("-x*y") == "(* (neg x) y)")
        #expect(try structure("2^-x") == "(^ 2 (neg x))")
        #expect(try structure("a - -b") == "(- a (neg b))")
        #expect(try structure("(a + b) * c") == "(* (+ a b) c)")
        #expect(try structure("x^2*y") == "(* (^ x 2) y)")
        #expect(try structure("max(a, b + 1) * min(1, -c)") == "(* (max a (+ b 1)) (min 1 (neg c)))")
        #expect(try structure("σ(x) + sigmoid(x)") == "(+ (sigmoid x) (sigmoid x))")
        #expect(try structure("sin(cos(x))") == "(sin (cos x))")
    }

    @Test func numbers() throws {
        #expect(try structure("12") == "12")
        #expect(try structure("2.5") == "2.5")
        #expect(try structure(".5") == "0.5")
        #expect(try structure("1e3") == "1000")
        #expect(try structure("2.5E-1") == "0.25")
    }

    @Test func sharedSubexpressionsAndFanOut() throws {
        let expression = try Formula(parsing: "(x + σ(x)) / (σ(x) + (x + y)^2)")
        // x is one node read four times; σ(x) typed twice is two nodes.
        let x = try #require(expression.nodes.firstIndex { $0.operation == .variable("x") })
        #expect(expression.consumers[x].count == 4)
        #expect(expression.nodes.filter { $0.operation == .function(.sigmoid) }.count == 2)
        #expect(expression.variables == ["x", "y"])
    }

    @Test func errorsNameTheProblemAndColumn() throws {
        let cases: [(String, String, FormulaError.Kind, Int)] = [
            ("x + * y", "x=1,y=2", .unexpectedToken("*"), 5),
            ("x y", "x=1,y=2", .unexpectedToken("y"), 3),
            ("x +", "x=1", .unexpectedEnd, 4),
            ("", "", .unexpectedEnd, 1),
            ("x $ 2", "x=1", .invalidCharacter("$"), 3),
            ("(x + 1", "x=1", .unbalancedParenthesis, 1),
            ("x + 1)", "x=1", .unbalancedParenthesis, 6),
            ("sin(x))", "x=1", .unbalancedParenthesis, 7),
            ("2 * foo(x)", "x=1", .unknownFunction("foo"), 5),
            ("max(x)", "x=1", .wrongArgumentCount(function: "max", expected: 2, found: 1), 1),
            ("1 + sin(x, 2)", "x=1", .wrongArgumentCount(function: "sin", expected: 1, found: 2), 5),
            ("min(x, 1, 2)", "x=1", .wrongArgumentCount(function: "min", expected: 2, found: 3), 1),
            ("exp()", "", .wrongArgumentCount(function: "exp", expected: 1, found: 0), 1),
            ("x * (y + z)", "x=1,y=2", .missingValue("z"), 10),
            ("sin + 1", "", .unexpectedToken("+"), 5),
            ("(x, 1)", "x=1", .unexpectedToken(","), 3),
        ]
        for (formula, values, kind, column) in cases {
            let error = try #require(parseError(formula, at: values), "\(formula) should fail")
            #expect(error.kind == kind, "\(formula): \(error.kind)")
            #expect(error.column == column, "\(formula): column \(error.column), expected \(column)")
        }
    }

    @Test func errorMessageHasCaretUnderTheColumn() throws {
        let error = try #require(parseError("x + * y"))
        let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].contains("unexpected '*'"))
        #expect(lines[1] == "  x + * y")
        #expect(lines[2] == "      ^")
        // A long input is shown around the column, the caret still under it.
        let long = String(repeating: "(", count: 100_000) + "x"
        let deep = try #require(parseError(long, at: "x=1"))
        let deepLines = deep.description.split(separator: "\n").map(String.init)
        #expect(deepLines[1].count < 100)
        let caret = try #require(deepLines[2].firstIndex(of: "^"))
        let shownColumn = deepLines[2].distance(from: deepLines[2].startIndex, to: caret)
        #expect(Array(deepLines[1])[shownColumn] == "(")
    }

    @Test func variableValues() throws {
        let values = try VariableValues(parsing: "x=2, y=-1,z=0,w=1e-3")
        #expect(values.names == ["x", "y", "z", "w"])
        #expect(values["w"] == 1e-3)
        #expect(try VariableValues(parsing: "").names.isEmpty)
        #expect(try evaluate("2^10", at: "").value == 1024)
        #expect(throws: VariableValuesError.self) { try VariableValues(parsing: "x=1,x=2") }
        #expect(throws: VariableValuesError.self) { try VariableValues(parsing: "x=abc") }
        #expect(throws: VariableValuesError.self) { try VariableValues(parsing: "x") }
        #expect(throws: VariableValuesError.self) { try VariableValues(parsing: "1x=2") }
        #expect(throws: VariableValuesError.self) { try Formula(parsing: "x").gradient(at: VariableValues(parsing: "x=1,y=2")) }
    }

    @Test func deepNestingDoesNotOverflow() throws {
        let n = 100_000
        let nested = String(repeating: "(", count: n) + "x" + String(repeating: ")", count: n)
        #expect(try evaluate(nested, at: "x=3").gradient == [1])
        // 100 000 nested operations: the graph is 100 001 nodes deep, walked without recursion.
        let negations = String(repeating: "-(", count: n) + "x" + String(repeating: ")", count: n)
        let result = try evaluate(negations, at: "x=3")
        #expect(result.value == 3 && result.gradient == [1])
        let calls = String(repeating: "sin(", count: 20_000) + "x" + String(repeating: ")", count: 20_000)
        let graph = try Formula(parsing: calls).graph(at: [0.5])
        #expect(Trace(graph: graph).backward.count == 20_001)
        #expect(parseError(String(repeating: "(", count: n), at: "")?.kind == .unexpectedEnd)
        #expect(parseError(String(repeating: ")", count: n), at: "")?.kind == .unexpectedToken(")"))
        #expect(parseError(String(repeating: "(", count: n) + "x", at: "x=1")?.kind == .unbalancedParenthesis)
    }

    @Test func randomStringsNeverCrash() throws {
        var generator = SplitMix64(seed: 2024)
        let alphabet = Array("xyz0123456789.e+-*/^(),  sincoexptalgqrhmdbσ−$")
        let fragments = ["sin(", "max(", "min(", "sigmoid(", "**", "1e", "x", "(", ")", ",", "log(", "relu("]
        var parsed = 0
        for _ in 0..<3000 {
            var text = ""
            let length = Int(generator.next() % 30)
            for _ in 0..<length {
                if generator.next() % 4 == 0 {
                    text += fragments[Int(generator.next() % UInt64(fragments.count))]
                } else {
                    text.append(alphabet[Int(generator.next() % UInt64(alphabet.count))])
                }
            }
            guard let expression = try? Formula(parsing: text) else {
                // The error must still describe itself.
                do { _ = try Formula(parsing: text) } catch { #expect(!error.description.isEmpty) }
                continue
            }
            parsed += 1
            let point = expression.variables.map { _ in Double(Int(generator.next() % 200)) / 10 - 10 }
            let graph = expression.graph(at: point)
            _ = Trace(graph: graph).render()
            _ = graph.dot()
        }
        #expect(parsed > 100)
    }
}

/// A small seeded generator for reproducible fuzzing.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
