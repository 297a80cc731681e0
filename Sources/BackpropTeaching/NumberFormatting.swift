// How numbers are printed: full precision for scripts, a few significant digits for tables.

import Foundation

/// `value` as a JSON number with 17 significant digits (so it reads back as the same float64);
/// non-finite values, which JSON cannot hold, become `null`.
public func jsonNumber(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    return String(format: "%.17g", value)
}

/// `value` with `digits` significant digits, without trailing zeros (`0.982014`, `49`, `-0.000400288`).
public func formatSignificant(_ value: Double, digits: Int = 6) -> String {
    if value == 0 { return "0" }
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    return String(format: "%.\(Swift.max(1, digits))g", value)
}

/// `text` as a JSON string literal.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

extension GradientResult {
    /// One JSON object, `{"value": V, "gradient": {"x": …, …}}`, every number with 17 significant digits.
    public var json: String {
        let entries = zip(variables, gradient).map { "\(jsonString($0)): \(jsonNumber($1))" }
        return "{\"value\": \(jsonNumber(value)), \"gradient\": {\(entries.joined(separator: ", "))}}"
    }

    /// The value and each partial derivative on its own line, names aligned, full precision.
    public func report(formula: String) -> String {
        let point = zip(variables, self.point).map { "\($0) = \(formatShort($1))" }.joined(separator: ", ")
        var lines = ["f = \(formula)"] + (point.isEmpty ? [] : ["at \(point)"]) + ["", "f = \(value)"]
        let labels = variables.map { "∂f/∂\($0)" }
        let width = labels.map(\.count).max() ?? 0
        for (label, partial) in zip(labels, gradient) {
            lines.append(label + String(repeating: " ", count: width - label.count) + " = \(partial)")
        }
        return lines.joined(separator: "\n")
    }
}
