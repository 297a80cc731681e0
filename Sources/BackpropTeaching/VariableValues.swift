// Values for a formula's variables, as `--at x=2,y=-1,z=0` gives them.

/// Values for named variables, in the order they were given.
public struct VariableValues: Equatable, Sendable {
    /// The names, in the order given.
    public private(set) var names: [String] = []
    /// The values, one per name.
    public private(set) var values: [Double] = []

    /// Creates values from `name → value` pairs in order.
    ///
    /// - Throws: `VariableValuesError` if a name is given twice.
    public init(_ pairs: [(String, Double)]) throws(VariableValuesError) {
        for (name, value) in pairs {
            guard !names.contains(name) else { throw VariableValuesError("variable '\(name)' is given twice") }
            names.append(name)
            values.append(value)
        }
    }

    /// Parses `x=2,y=-1,z=0` (spaces allowed; numbers as Swift reads them, like `1e-3`); empty text gives
    /// no values.
    ///
    /// - Throws: `VariableValuesError` for an item without `=`, a bad name or number, or a name given twice.
    public init(parsing text: String) throws(VariableValuesError) {
        var pairs: [(String, Double)] = []
        if text.trimmingSpaces.isEmpty {
            try self.init(pairs)
            return
        }
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let shown = item.trimmingSpaces
            guard parts.count == 2 else {
                throw VariableValuesError("'\(shown)' in '\(text)' is not of the form name=value (for example x=2,y=-1)")
            }
            let name = parts[0].trimmingSpaces
            let valueText = parts[1].trimmingSpaces
            guard let first = name.first, first.isLetter || first == "_",
                  name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw VariableValuesError("'\(name)' in '\(text)' is not a variable name")
            }
            guard let value = Double(valueText.replacingOccurrences(of: "−", with: "-")) else {
                throw VariableValuesError("'\(valueText)' (the value of \(name)) is not a number")
            }
            pairs.append((name, value))
        }
        try self.init(pairs)
    }

    /// The value of `name`, or nil.
    public subscript(name: String) -> Double? {
        names.firstIndex(of: name).map { values[$0] }
    }

    /// The values of `expression`'s variables in its order.
    ///
    /// - Throws: `FormulaError.Kind.missingValue` (with the column of the variable's first use) for a
    ///   variable with no value; `VariableValuesError` for a name the formula does not use.
    public func values(for expression: Formula) throws -> [Double] {
        for name in names where !expression.variables.contains(name) {
            let known = expression.variables.isEmpty ? "it has none" : "its variables are \(expression.variables.joined(separator: ", "))"
            throw VariableValuesError("'\(name)' is not a variable of the formula (\(known))")
        }
        return try expression.variables.map { name throws(FormulaError) in
            guard let value = self[name] else {
                let column = expression.nodes.first { $0.operation == .variable(name) }?.column ?? 1
                throw FormulaError(.missingValue(name), column: column, source: expression.source)
            }
            return value
        }
    }
}

/// A malformed list of variable values.
public struct VariableValuesError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What is wrong, in words.
    public var message: String
    /// Creates an error with its message.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

extension StringProtocol {
    /// The text without leading and trailing spaces.
    var trimmingSpaces: String {
        String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }

    func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
