// Each operation's local partial derivatives ∂o/∂iₖ, from its inputs' values and its output — the numbers
// lecture 002's forward table stores. They are the engine's own rules (`ElementwisePrimitive`), read rather
// than written again, so the tables follow the engine's conventions at kinks and edges.

import Backprop

extension Operation {
    /// The engine's primitive that computes this operation, and how its inputs map to the primitive's
    /// arguments: nil for constants and variables. A reciprocal is the quotient 1/i.
    var primitive: ElementwisePrimitive? {
        let name: String? = switch self {
        case .constant, .variable: nil
        case .negate: "negate"
        case .add: "add"
        case .subtract: "subtract"
        case .multiply: "multiply"
        case .reciprocal: "divide"
        case .power: "pow"
        case .maximum: "max"
        case .minimum: "min"
        case .function(let f): f.rawValue
        }
        return name.map { ElementwisePrimitive(named: $0)! }
    }

    /// ∂o/∂iₖ for each input iₖ, given the inputs' values and the output o.
    public func localPartials(inputs i: [Double], output o: Double) -> [Double] {
        guard let primitive else { return [] }
        // o = 1/i is the quotient 1/i: its partial in the divisor.
        if case .reciprocal = self { return [primitive.partials(at: 1, i[0], value: o)[1]] }
        return primitive.partials(at: i[0], i.count > 1 ? i[1] : 0, value: o)
    }
}
