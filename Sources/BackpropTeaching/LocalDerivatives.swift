// Each operation's local partial derivatives ∂o/∂iₖ, from its inputs' values and its output — the numbers
// lecture 002's forward table stores. They follow the engine's conventions at kinks and edges.

import Foundation

extension Operation {
    /// ∂o/∂iₖ for each input iₖ, given the inputs' values and the output o.
    public func localPartials(inputs i: [Double], output o: Double) -> [Double] {
        switch self {
        case .constant, .variable: return []
        // o = −i: ∂o/∂i = −1
        case .negate: return [-1]
        // o = i₁ + i₂: both 1
        case .add: return [1, 1]
        // o = i₁ − i₂: 1 and −1
        case .subtract: return [1, -1]
        // o = i₁·i₂: ∂o/∂i₁ = i₂, ∂o/∂i₂ = i₁
        case .multiply: return [i[1], i[0]]
        // o = 1/i: ∂o/∂i = −1/i²
        case .reciprocal: return [-1 / (i[0] * i[0])]
        // o = i₁^i₂: ∂o/∂i₁ = i₂·i₁^(i₂−1) (0 when i₂ = 0), ∂o/∂i₂ = o·ln i₁ (0 when i₁ ≤ 0)
        case .power: return [i[1] == 0 ? 0 : i[1] * Foundation.pow(i[0], i[1] - 1), i[0] > 0 ? o * Foundation.log(i[0]) : 0]
        // o = max(i₁, i₂): 1 for the larger input (the first on a tie), 0 for the other
        case .maximum: return i[0] >= i[1] ? [1, 0] : [0, 1]
        // o = min(i₁, i₂): 1 for the smaller input (the first on a tie), 0 for the other
        case .minimum: return i[0] <= i[1] ? [1, 0] : [0, 1]
        case .function(let f):
            let x = i[0]
            switch f {
            case .sin: return [Foundation.cos(x)]        // d sin x = cos x
            case .cos: return [-Foundation.sin(x)]       // d cos x = −sin x
            case .tan: return [1 + o * o]                // d tan x = 1 + tan²x
            case .exp: return [o]                        // d eˣ = eˣ
            case .log: return [1 / x]                    // d ln x = 1/x
            case .sqrt: return [1 / (2 * o)]             // d √x = 1/(2√x)
            case .tanh: return [1 - o * o]               // d tanh x = 1 − tanh²x
            case .sigmoid: return [o * (1 - o)]          // d σ(x) = σ(x)(1 − σ(x))
            case .relu: return [x > 0 ? 1 : 0]           // 1 for x > 0, else 0
            case .abs: return [x > 0 ? 1 : (x < 0 ? -1 : 0)] // sign x (0 at 0)
            }
        }
    }
}
