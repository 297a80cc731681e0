// Lexer and parser: shunting-yard with explicit stacks, so no input depth can overflow the call stack.

/// One token of a formula.
struct Token: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case identifier(String)
        /// One of + - * / ^ (`**` becomes ^).
        case symbol(Character)
        case leftParenthesis, rightParenthesis, comma, end
        /// `=` of an intermediate's definition.
        case equals
        /// `;` ending an intermediate's definition.
        case semicolon
    }

    var kind: Kind
    /// The text as typed.
    var text: String
    /// 1-based column of the first character.
    var column: Int
}

/// Splits `source` into tokens; the last is `.end`.
func tokenize(_ source: String) throws(FormulaError) -> [Token] {
    let characters = Array(source)
    var tokens: [Token] = []
    var i = 0
    func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
    while i < characters.count {
        let c = characters[i]
        let start = i
        if c.isWhitespace {
            i += 1
        } else if isDigit(c) || (c == "." && i + 1 < characters.count && isDigit(characters[i + 1])) {
            while i < characters.count, isDigit(characters[i]) { i += 1 }
            if i < characters.count, characters[i] == "." {
                i += 1
                while i < characters.count, isDigit(characters[i]) { i += 1 }
            }
            if i < characters.count, characters[i] == "e" || characters[i] == "E" {
                var j = i + 1
                if j < characters.count, characters[j] == "+" || characters[j] == "-" { j += 1 }
                if j < characters.count, isDigit(characters[j]) {
                    i = j
                    while i < characters.count, isDigit(characters[i]) { i += 1 }
                }
            }
            let text = String(characters[start..<i])
            guard let value = Double(text) else {
                throw FormulaError(.unexpectedToken(text), column: start + 1, source: source)
            }
            tokens.append(Token(kind: .number(value), text: text, column: start + 1))
        } else if c.isLetter || c == "_" {
            while i < characters.count, characters[i].isLetter || characters[i] == "_" || isDigit(characters[i]) { i += 1 }
            let text = String(characters[start..<i])
            tokens.append(Token(kind: .identifier(text), text: text, column: start + 1))
        } else if c == "*" && i + 1 < characters.count && characters[i + 1] == "*" {
            i += 2
            tokens.append(Token(kind: .symbol("^"), text: "**", column: start + 1))
        } else if "+-*/^".contains(c) {
            i += 1
            tokens.append(Token(kind: .symbol(c), text: String(c), column: start + 1))
        } else if c == "−" {
            // The typographic minus sign, as the lectures print it.
            i += 1
            tokens.append(Token(kind: .symbol("-"), text: String(c), column: start + 1))
        } else if c == "=" || c == ";" {
            i += 1
            tokens.append(Token(kind: c == "=" ? .equals : .semicolon, text: String(c), column: start + 1))
        } else if c == "(" || c == ")" || c == "," {
            i += 1
            let kind: Token.Kind = c == "(" ? .leftParenthesis : c == ")" ? .rightParenthesis : .comma
            tokens.append(Token(kind: kind, text: String(c), column: start + 1))
        } else {
            throw FormulaError(.invalidCharacter(c), column: start + 1, source: source)
        }
    }
    tokens.append(Token(kind: .end, text: "", column: characters.count + 1))
    return tokens
}

/// A called function: a one-argument elementary function, max or min.
private enum Callee {
    case elementary(ElementaryFunction)
    case maximum, minimum

    init?(name: String) {
        if let f = ElementaryFunction(name: name) { self = .elementary(f) }
        else if name == "max" { self = .maximum }
        else if name == "min" { self = .minimum }
        else { return nil }
    }

    var arity: Int {
        if case .elementary = self { return 1 }
        return 2
    }

    var operation: Operation {
        switch self {
        case .elementary(let f): .function(f)
        case .maximum: .maximum
        case .minimum: .minimum
        }
    }
}

/// An entry of the operator stack.
private enum Pending {
    /// A binary operator (+ - * / ^) at a column.
    case binary(Character, column: Int)
    /// Unary minus.
    case negate(column: Int)
    /// An open parenthesis, or the open parenthesis of a call with the arguments completed so far.
    case open(column: Int, call: (callee: Callee, name: String, column: Int, arguments: Int)?)
}

/// Binding strength: + − 1, × / 2, unary minus 3, ^ 4 (so −x^2 is −(x^2), and 2^−x is allowed).
private func precedence(_ symbol: Character) -> Int {
    switch symbol {
    case "+", "-": 1
    case "*", "/": 2
    default: 4
    }
}
private let negationPrecedence = 3

extension Formula {
    /// Parses a formula: numbers, variables, `+ - * / ^` (`**` too), unary minus, parentheses and calls of
    /// `sin cos tan exp log sqrt tanh sigmoid σ relu abs max min`, optionally after intermediates
    /// `name = expression;` that later statements read by name (`a = x*y; b = a*a; b + a`).
    ///
    /// - Throws: `FormulaError` naming the problem and its column.
    public init(parsing source: String) throws(FormulaError) {
        let tokens = try tokenize(source)
        var nodes: [FormulaNode] = []
        var operands: [Int] = []
        var pending: [Pending] = []
        var variableNodes: [String: Int] = [:]

        func emit(_ operation: Operation, _ inputs: [Int], _ column: Int) {
            nodes.append(FormulaNode(operation: operation, inputs: inputs, column: column))
            operands.append(nodes.count - 1)
        }
        // Applies the operator on top of the stack to the operands it needs.
        func reduce(_ item: Pending) {
            switch item {
            case .negate(let column):
                let a = operands.removeLast()
                emit(.negate, [a], column)
            case .binary(let symbol, let column):
                let b = operands.removeLast()
                let a = operands.removeLast()
                switch symbol {
                case "+": emit(.add, [a, b], column)
                case "-": emit(.subtract, [a, b], column)
                case "*": emit(.multiply, [a, b], column)
                case "/":
                    emit(.reciprocal, [b], column)
                    let r = operands.removeLast()
                    emit(.multiply, [a, r], column)
                default: emit(.power, [a, b], column)
                }
            case .open:
                break
            }
        }
        func fail(_ kind: FormulaError.Kind, _ column: Int) -> FormulaError {
            FormulaError(kind, column: column, source: source)
        }
        func unexpected(_ token: Token) -> FormulaError {
            token.kind == .end ? fail(.unexpectedEnd, token.column) : fail(.unexpectedToken(token.text), token.column)
        }
        // Pops operators down to the nearest open parenthesis, which it returns (still on the stack), or nil.
        func reduceToOpen() -> Pending? {
            while let top = pending.last {
                if case .open = top { return top }
                reduce(pending.removeLast())
            }
            return nil
        }

        var expectOperand = true
        var index = 0
        // Intermediates (`name = expression;` before the result, as lecture 004's a, b, c): the name being
        // defined, the names defined but not yet read (with their columns), and every intermediate's node.
        var binding: (name: String, column: Int)?
        var unread: [String: Int] = [:]
        var intermediateNames: [Int: String] = [:]
        var lastDefinitionColumn: Int?
        func startStatement() throws(FormulaError) {
            guard case .identifier(let name) = tokens[index].kind, tokens[index + 1].kind == .equals else { return }
            if variableNodes[name] != nil || Callee(name: name) != nil { throw fail(.redefinition(name), tokens[index].column) }
            binding = (name, tokens[index].column)
            index += 2
        }
        try startStatement()
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            if expectOperand {
                switch token.kind {
                case .number(let value):
                    emit(.constant(value), [], token.column)
                    expectOperand = false
                case .identifier(let name):
                    if tokens[index].kind == .leftParenthesis {
                        guard let callee = Callee(name: name) else { throw fail(.unknownFunction(name), token.column) }
                        pending.append(.open(column: tokens[index].column, call: (callee, name, token.column, 0)))
                        index += 1
                    } else if Callee(name: name) != nil {
                        throw unexpected(tokens[index])
                    } else if let existing = variableNodes[name] {
                        unread[name] = nil
                        operands.append(existing)
                        expectOperand = false
                    } else {
                        emit(.variable(name), [], token.column)
                        variableNodes[name] = nodes.count - 1
                        expectOperand = false
                    }
                case .leftParenthesis:
                    pending.append(.open(column: token.column, call: nil))
                case .symbol("-"):
                    pending.append(.negate(column: token.column))
                case .end where nodes.count > 0 && operands.isEmpty && pending.isEmpty:
                    throw fail(.missingResult, lastDefinitionColumn ?? token.column)
                case .rightParenthesis:
                    if case .open(_, let call?) = pending.last, call.arguments == 0, tokens[index - 2].kind == .leftParenthesis {
                        throw fail(.wrongArgumentCount(function: call.name, expected: call.callee.arity, found: 0), call.column)
                    }
                    throw unexpected(token)
                default:
                    throw unexpected(token)
                }
            } else {
                switch token.kind {
                case .symbol(let symbol):
                    let p = precedence(symbol)
                    let rightAssociative = symbol == "^"
                    while let top = pending.last {
                        let q: Int
                        switch top {
                        case .binary(let s, _): q = precedence(s)
                        case .negate: q = negationPrecedence
                        case .open: q = 0
                        }
                        guard q > p || (q == p && !rightAssociative) else { break }
                        reduce(pending.removeLast())
                    }
                    pending.append(.binary(symbol, column: token.column))
                    expectOperand = true
                case .rightParenthesis:
                    guard case .open(_, let call)? = reduceToOpen() else { throw fail(.unbalancedParenthesis, token.column) }
                    pending.removeLast()
                    if let call {
                        let count = call.arguments + 1
                        guard count == call.callee.arity else {
                            throw fail(.wrongArgumentCount(function: call.name, expected: call.callee.arity, found: count), call.column)
                        }
                        let arguments = Array(operands.suffix(count))
                        operands.removeLast(count)
                        emit(call.callee.operation, arguments, call.column)
                    }
                case .comma:
                    guard case .open(let column, var call?)? = reduceToOpen() else { throw unexpected(token) }
                    call.arguments += 1
                    if call.arguments >= call.callee.arity {
                        // Count the rest so the message says how many were given.
                        var found = call.arguments + 1, depth = 0, j = index
                        while j < tokens.count, tokens[j].kind != .end {
                            switch tokens[j].kind {
                            case .leftParenthesis: depth += 1
                            case .rightParenthesis: depth -= 1
                            case .comma where depth == 0: found += 1
                            default: break
                            }
                            if depth < 0 { break }
                            j += 1
                        }
                        throw fail(.wrongArgumentCount(function: call.name, expected: call.callee.arity, found: found), call.column)
                    }
                    pending[pending.count - 1] = .open(column: column, call: call)
                    expectOperand = true
                case .semicolon:
                    if case .open(let column, _)? = reduceToOpen() { throw fail(.unbalancedParenthesis, column) }
                    guard let defined = binding else { throw unexpected(token) }
                    if variableNodes[defined.name] != nil { throw fail(.redefinition(defined.name), defined.column) }
                    let node = operands.removeLast()
                    variableNodes[defined.name] = node
                    if intermediateNames[node] == nil, nodes[node].arity > 0 { intermediateNames[node] = defined.name }
                    unread[defined.name] = defined.column
                    lastDefinitionColumn = defined.column
                    binding = nil
                    expectOperand = true
                    try startStatement()
                case .end:
                    if case .open(let column, _)? = reduceToOpen() { throw fail(.unbalancedParenthesis, column) }
                    if let defined = binding { throw fail(.missingResult, defined.column) }
                    if let (name, column) = unread.min(by: { $0.value < $1.value }) {
                        throw fail(.unusedIntermediate(name), column)
                    }
                default:
                    throw unexpected(token)
                }
            }
        }
        self.init(source: source, nodes: nodes, intermediateNames: intermediateNames)
    }
}
