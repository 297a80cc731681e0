import Foundation
import Testing
@testable import BackpropTeaching

/// Whether `a` and `b` agree to `digits` significant digits.
func agree(_ a: Double, _ b: Double, digits: Int = 12) -> Bool {
    let scale = Swift.max(Swift.abs(a), Swift.abs(b))
    return scale == 0 || Swift.abs(a - b) <= scale * 0.5 * Foundation.pow(10, Double(1 - digits))
}

/// The value and gradient of `formula` at `at`, through the API the CLI uses.
func evaluate(_ formula: String, at: String) throws -> GradientResult {
    try Formula(parsing: formula).gradient(at: VariableValues(parsing: at))
}

func expectResult(_ formula: String, at: String, value: Double, gradient: [String: Double]) throws {
    let result = try evaluate(formula, at: at)
    #expect(agree(result.value, value), "value of \(formula): \(result.value), expected \(value)")
    for (name, expected) in gradient {
        let partial = try #require(result.partial(name))
        #expect(agree(partial, expected), "∂/∂\(name) of \(formula): \(partial), expected \(expected)")
    }
    #expect(Set(result.variables) == Set(gradient.keys))
}

@Suite struct LectureExampleTests {
    @Test func issueExample() throws {
        try expectResult(
            "z + sin(x^2 + y*exp(z))", at: "x=2,y=-1,z=0", value: 0.14112000805986721,
            gradient: ["x": -3.9599699864017817, "y": -0.9899924966004454, "z": 1.9899924966004454])
    }

    @Test func lecture002() throws {
        try expectResult(
            "(x + σ(x)) / (σ(x) + (x + y)^2)", at: "x=4,y=3", value: 0.09967613171742373,
            gradient: ["x": -0.007594005508783548, "y": -0.027919360150352072])
        try expectResult(
            "(x + sigmoid(x)) / (sigmoid(x) + (x + y)**2)", at: "x=4,y=3", value: 0.09967613171742373,
            gradient: ["x": -0.007594005508783548, "y": -0.027919360150352072])
    }

    @Test func lecture001() throws {
        try expectResult("(x + y)*max(y, z)", at: "x=1,y=2,z=0", value: 6, gradient: ["x": 2, "y": 5, "z": 0])
    }

    @Test func lecture003() throws {
        try expectResult("c*(a + 2*b)", at: "a=3,b=1,c=-2", value: -10, gradient: ["a": -2, "b": -4, "c": 5])
    }

    @Test func lecture000() throws {
        // e = (a+b)(b+1): ∂e/∂a = b+1, ∂e/∂b = a+2b+1.
        try expectResult("(a+b)*(b+1)", at: "a=2,b=1", value: 6, gradient: ["a": 2, "b": 5])
        // x1²x2 + cos x3.
        let (x1, x2, x3) = (1.5, -2.0, 0.7)
        try expectResult(
            "x1^2*x2+cos(x3)", at: "x1=\(x1),x2=\(x2),x3=\(x3)", value: x1 * x1 * x2 + cos(x3),
            gradient: ["x1": 2 * x1 * x2, "x2": x1 * x1, "x3": -sin(x3)])
        // exp(sin(x²)): 2x·cos(x²)·exp(sin(x²)).
        let x = 0.8
        try expectResult(
            "exp(sin(x^2))", at: "x=\(x)", value: exp(sin(x * x)), gradient: ["x": 2 * x * cos(x * x) * exp(sin(x * x))])
    }

    @Test func everyFunction() throws {
        let x = 0.3
        let cases: [(String, Double, Double)] = [
            ("sin(x)", sin(x), cos(x)), ("cos(x)", cos(x), -sin(x)), ("tan(x)", tan(x), 1 / (cos(x) * cos(x))),
            ("exp(x)", exp(x), exp(x)), ("log(x)", log(x), 1 / x), ("sqrt(x)", x.squareRoot(), 0.5 / x.squareRoot()),
            ("tanh(x)", tanh(x), 1 - tanh(x) * tanh(x)), ("relu(x)", x, 1), ("abs(-x)", x, 1),
            ("sigmoid(x)", 1 / (1 + exp(-x)), exp(-x) / ((1 + exp(-x)) * (1 + exp(-x)))),
            ("min(x, 1)", x, 1), ("max(x, 1)", 1, 0), ("x - 1/x", x - 1 / x, 1 + 1 / (x * x)),
            ("2^x", Foundation.pow(2, x), Foundation.pow(2, x) * log(2.0)), ("-x^2", -x * x, -2 * x),
        ]
        for (formula, value, derivative) in cases {
            try expectResult(formula, at: "x=\(x)", value: value, gradient: ["x": derivative])
        }
    }
}
