import Backprop
import Testing

/// The table of elementwise primitives: every row has a row in the derivative tests' primitive table, and
/// each primitive's partials on numbers (scalar records, the teaching module) agree with central differences
/// of its value and with the tensor rule that higher orders differentiate.
@Suite struct ElementwiseTableTests {
    @Test func everyElementwisePrimitiveHasARowInThePrimitiveTable() {
        let names = primitiveCases.map(\.name)
        for primitive in ElementwisePrimitive.all {
            #expect(
                names.contains { $0 == primitive.name || $0.hasPrefix(primitive.name + " ") },
                "\(primitive.name) has no row in primitiveCases")
        }
    }

    @Test(arguments: ElementwisePrimitive.all)
    func partialsOnNumbersMatchDifferencesAndTheTensorRule(_ primitive: ElementwisePrimitive) {
        // Points away from kinks (relu, abs, max and min at ties) and inside every domain (log, sqrt, pow).
        let points: [(Double, Double)] = [(0.7, 1.3), (1.6, 0.4), (0.35, -0.8)]
        for (a, b) in points {
            let y = primitive.value(a, b)
            let partials = primitive.partials(at: a, b, value: y)
            #expect(partials.count == primitive.arity)
            let h = 1e-6
            let da = (primitive.value(a + h, b) - primitive.value(a - h, b)) / (2 * h)
            #expect(Swift.abs(partials[0] - da) <= 1e-6 * Swift.max(1, Swift.abs(da)), "\(primitive) ∂/∂a at (\(a), \(b))")
            if primitive.arity == 2 {
                let db = (primitive.value(a, b + h) - primitive.value(a, b - h)) / (2 * h)
                #expect(Swift.abs(partials[1] - db) <= 1e-6 * Swift.max(1, Swift.abs(db)), "\(primitive) ∂/∂b at (\(a), \(b))")
            }
            // The tensor rule (taken when a sweep is recorded) at the same point, on [2]-shaped tensors.
            let x = Tensor<Double>([a, a]), z = Tensor<Double>([b, b])
            let grads = gradient(at: [x, z]) { t in
                let (u, v) = (t[0], t[1])
                let out: Tensor<Double> = switch primitive.name {
                case "negate": -u
                case "sqrt": sqrt(u)
                case "exp": exp(u)
                case "log": log(u)
                case "sin": sin(u)
                case "cos": cos(u)
                case "tan": tan(u)
                case "tanh": tanh(u)
                case "sigmoid": sigmoid(u)
                case "relu": relu(u)
                case "abs": abs(u)
                case "erf": erf(u)
                case "add": u + v
                case "subtract": u - v
                case "multiply": u * v
                case "divide": u / v
                case "pow": pow(u, v)
                case "max": max(u, v)
                case "min": min(u, v)
                default: Tensor(Double.nan)
                }
                return out.sum()
            }
            #expect(Swift.abs(grads[0].scalars[0] - partials[0]) < 1e-12, "\(primitive) tensor ∂/∂a")
            if primitive.arity == 2 { #expect(Swift.abs(grads[1].scalars[0] - partials[1]) < 1e-12, "\(primitive) tensor ∂/∂b") }
        }
    }
}
