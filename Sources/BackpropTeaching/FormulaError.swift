// Errors in a formula or its variables' values, shown as the problem, the input and a caret under the column.

/// A problem with a formula, located at a column of its source.
public struct FormulaError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The kinds of problem a formula can have.
    public enum Kind: Equatable, Sendable {
        /// A token that cannot stand where it does, such as the second `*` of `x * * y` (its text).
        case unexpectedToken(String)
        /// The formula ends where an operand or a closing parenthesis is still needed.
        case unexpectedEnd
        /// A character that starts no token.
        case invalidCharacter(Character)
        /// A `)` with no `(` before it, or a `(` never closed.
        case unbalancedParenthesis
        /// A call of a name that is not a function of the language.
        case unknownFunction(String)
        /// A call with the wrong number of arguments.
        case wrongArgumentCount(function: String, expected: Int, found: Int)
        /// A variable of the formula that was given no value.
        case missingValue(String)
        /// `name = …` for a name that already stands for a variable, an earlier intermediate or a function.
        case redefinition(String)
        /// An intermediate `name = …;` that nothing after it reads.
        case unusedIntermediate(String)
        /// The formula ends with `name = …` instead of the expression to evaluate.
        case missingResult
    }

    /// What went wrong.
    public var kind: Kind
    /// The 1-based column (in characters) of the problem.
    public var column: Int
    /// The formula.
    public var source: String

    /// Creates an error of `kind` at `column` of `source`.
    public init(_ kind: Kind, column: Int, source: String) {
        self.kind = kind
        self.column = column
        self.source = source
    }

    /// The problem in one sentence, without the input.
    public var problem: String {
        switch kind {
        case .unexpectedToken(let text): "unexpected '\(text)' at column \(column)"
        case .unexpectedEnd: "unexpected end of formula at column \(column)"
        case .invalidCharacter(let c): "unexpected character '\(c)' at column \(column)"
        case .unbalancedParenthesis:
            column <= source.count && Array(source)[column - 1] == "("
                ? "unbalanced parenthesis: '(' at column \(column) is never closed"
                : "unbalanced parenthesis: ')' at column \(column) has no matching '('"
        case .unknownFunction(let name):
            "unknown function '\(name)' at column \(column) (known: \(knownFunctionNames.joined(separator: ", ")))"
        case .wrongArgumentCount(let function, let expected, let found):
            "wrong number of arguments: \(function) takes \(expected), got \(found) (column \(column))"
        case .missingValue(let name): "variable '\(name)' has no value (first used at column \(column))"
        case .redefinition(let name): "'\(name)' at column \(column) cannot be defined: it already names a variable, an intermediate or a function (each name is defined once)"
        case .unusedIntermediate(let name): "'\(name)' is defined at column \(column) but never used"
        case .missingResult:
            "the formula ends with an assignment at column \(column): end it with the expression to evaluate, as in a = x*y; a + a"
        }
    }

    /// The problem, then the input line, then a caret under the column (long inputs shown around the column).
    public var description: String {
        let characters = Array(source)
        let width = 72
        var start = 0
        var prefix = "", suffix = ""
        if characters.count > width {
            start = Swift.max(0, Swift.min(column - 1 - width / 2, characters.count - width))
            if start > 0 { prefix = "…" }
            if start + width < characters.count { suffix = "…" }
        }
        let shown = characters[start..<Swift.min(characters.count, start + width)]
        let line = prefix + String(shown) + suffix
        let caret = String(repeating: " ", count: prefix.count + Swift.max(0, column - 1 - start)) + "^"
        return "\(problem)\n  \(line)\n  \(caret)"
    }
}

/// The function names the language knows, as the error for an unknown one lists them.
let knownFunctionNames = ElementaryFunction.allCases.map(\.rawValue) + ["σ", "max", "min"]
