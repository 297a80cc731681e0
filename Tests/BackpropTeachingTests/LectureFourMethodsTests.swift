import Foundation
import Backprop
import Testing
@testable import BackpropTeaching

/// Lecture 004's running example and the other formulas these tests differentiate.
private let lectureFour = "z + sin(x^2 + y*exp(z))"
private let smoothFormulas = [
    lectureFour,
    "(x + sigmoid(x)) / (sigmoid(x) + (x + y)^2)",
    "tanh(x*y) - cos(x)/sqrt(y + 3) + log(1 + x^2)",
    "exp(-x^2) * tan(y/4) - x^y",
    "a = x*y; b = a*a + sin(a); c = b*b - b; c/(1 + a^2)",
    "-(x - y)^3 + 1/x + max(x, 2*y) + relu(y - 5)",
]

/// A pseudo-random point in [0.3, 1.3]ⁿ (positive, so logs, roots and powers are defined).
private func randomPoint(_ count: Int, seed: inout UInt64) -> [Double] {
    (0..<count).map { _ in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return 0.3 + Double(seed >> 11) / Double(1 << 53)
    }
}

private func relativeError(_ a: Double, _ b: Double) -> Double { Swift.abs(a - b) / Swift.max(1, Swift.abs(b)) }

@Suite struct IntermediateTests {
    @Test func intermediatesShareOneNodeAndEvaluateLikeTheInlineFormula() throws {
        let shared = try Formula(parsing: "a = x*y; b = a*a + a; b*b")
        let inline = try Formula(parsing: "((x*y)*(x*y) + x*y)*((x*y)*(x*y) + x*y)")
        #expect(shared.variables == ["x", "y"])
        #expect(shared.nodes.count == 6)
        #expect(shared.nodeNames.contains("a") && shared.nodeNames.contains("b"))
        var seed: UInt64 = 7
        for _ in 0..<5 {
            let p = randomPoint(2, seed: &seed)
            #expect(relativeError(shared.value(at: p), inline.value(at: p)) < 1e-14)
            let g1 = shared.gradient(at: p).gradient, g2 = inline.gradient(at: p).gradient
            for (a, b) in zip(g1, g2) { #expect(relativeError(a, b) < 1e-12) }
        }
        // Paths multiply through shared values: x reaches b*b through 2·(2+1) paths.
        #expect(shared.paths.pathsPerVariable.map(\.description) == ["6", "6"])
    }

    @Test(arguments: [
        ("a = x*y", "ends with an assignment"),
        ("a = x*y;", "ends with an assignment"),
        ("a = x*y; b = a*2; a", "'b' is defined"),
        ("a = x; a = 3; a", "cannot be defined"),
        ("y = x + 1; x = 2; y", "cannot be defined"),
        ("sin = 3; sin", "cannot be defined"),
        ("x*y; x", "unexpected ';'"),
        ("a = (x; a", "never closed"),
        ("a == x; a", "unexpected '='"),
    ])
    func badIntermediatesAreReported(source: String, fragment: String) {
        #expect {
            _ = try Formula(parsing: source)
        } throws: { error in
            String(describing: error).contains(fragment)
        }
    }
}

@Suite struct ForwardModeTests {
    @Test(arguments: smoothFormulas)
    func everyTangentIsTheSumOfItsInputsTangentsTimesTheLocalDerivatives(source: String) throws {
        let formula = try Formula(parsing: source)
        var seed: UInt64 = 11
        let point = randomPoint(formula.variables.count, seed: &seed)
        let trace = ForwardModeTrace(formula: formula, at: point)
        let reverse = formula.gradient(at: point).gradient
        #expect(trace.passes.count == formula.variables.count)
        for (k, pass) in trace.passes.enumerated() {
            #expect(relativeError(pass.partial, reverse[k]) < 1e-12)
            for step in pass.steps {
                if formula.nodes[step.node].inputs.isEmpty {
                    #expect(step.tangent == (step.name == pass.variable ? 1 : 0))
                    continue
                }
                let sum = zip(step.localPartials, step.inputTangents).reduce(0) { $0 + $1.0 * $1.1.tangent }
                #expect(relativeError(step.tangent, sum) < 1e-12, "\(source), node \(step.name)")
            }
        }
        let plain = formula.forwardModeGradient(at: point)
        for (a, b) in zip(plain.gradient, reverse) { #expect(relativeError(a, b) < 1e-12) }
    }

    @Test func lectureFourTablesShowEveryPassAndTheCount() throws {
        let formula = try Formula(parsing: lectureFour)
        let text = ForwardModeTrace(formula: formula, at: [0, 2, -1]).render()
        #expect(text.contains("pass 3 of 3"))
        #expect(text.contains("∂f/∂z = ḟ = 1.98999"))
        #expect(text.contains("∂f/∂x = ḟ = -3.95997"))
        #expect(text.contains("forward mode: 3 passes for 3 inputs (one per input); reverse mode: 1 pass for all 3 partials"))
    }
}

@Suite struct SymbolicTests {
    @Test func lectureFourDerivativeWithRespectToZIsTheSlidesExpression() throws {
        let formula = try Formula(parsing: lectureFour)
        let symbolic = formula.symbolicDerivatives(at: [0, 2, -1])
        let dz = try #require(symbolic.partials.first { $0.variable == "z" })
        // The slide: ∂f/∂z = 1 + cos(x² + y·exp(z))·y·exp(z).
        #expect(dz.text == "1 + cos(x^2 + y*exp(z))*y*exp(z)")
        #expect(dz.repeatedSubexpressions == 2)   // exp(z) and y*exp(z) appear in f's argument and again as factors
        let dx = try #require(symbolic.partials.first { $0.variable == "x" })
        #expect(dx.text == "cos(x^2 + y*exp(z))*2*x")
        #expect(!symbolic.usesBranchesAtPoint)
    }

    @Test(arguments: smoothFormulas)
    func symbolicDerivativesEqualTheEngineAtRandomPoints(source: String) throws {
        let formula = try Formula(parsing: source)
        var seed: UInt64 = 3
        for _ in 0..<4 {
            let point = randomPoint(formula.variables.count, seed: &seed)
            let reverse = formula.gradient(at: point).gradient
            let symbolic = formula.symbolicDerivatives(at: point)
            let values = Dictionary(uniqueKeysWithValues: zip(formula.variables, point))
            for (k, partial) in symbolic.partials.enumerated() {
                let evaluated = try #require(partial.evaluate(at: values))
                #expect(relativeError(evaluated.value, reverse[k]) < 1e-12, "\(source) ∂/∂\(partial.variable)")
                // The printed formula reads back as the same function.
                if let text = partial.text {
                    let reparsed = try Formula(parsing: text)
                    let reparsedValue = reparsed.value(at: reparsed.variables.map { values[$0]! })
                    #expect(relativeError(reparsedValue, reverse[k]) < 1e-12, "\(text)")
                }
            }
        }
    }

    @Test func simplificationFoldsConstantsAndDropsNeutralTerms() throws {
        let formula = try Formula(parsing: "3*x + 0*y + y*1 - (2 + 2)")
        let symbolic = formula.symbolicDerivatives(at: [1, 1])
        #expect(symbolic.partials.map(\.text) == ["3", "1"])
        let product = try Formula(parsing: "x*y").symbolicDerivatives(at: [1, 2])
        #expect(product.partials.map(\.text) == ["y", "x"])
    }

    @Test func sharedValuesBlowUpTheWrittenOutDerivative() throws {
        var source = "a1 = x*y; "
        for k in 2...8 { source += "a\(k) = a\(k - 1)*a\(k - 1) + a\(k - 1); " }
        source += "a8*a8"
        let formula = try Formula(parsing: source)
        let symbolic = formula.symbolicDerivatives(at: [0.5, 0.8])
        let dx = symbolic.partials[0]
        #expect(dx.distinctSize < 100)
        #expect(Double(dx.treeSize.description)! > 10_000)
        #expect(dx.text == nil)                // too large to print
        #expect(dx.repeatedSubexpressions > 10)
    }
}

@Suite struct ComparisonTests {
    @Test func lectureFourRowsAgreeAndCountTheirOperations() throws {
        let formula = try Formula(parsing: lectureFour)
        let comparison = MethodComparison(formula: formula, at: [0, 2, -1], repeats: 1, budget: 0)
        #expect(comparison.rows.map(\.method) == ["reverse mode", "forward mode", "symbolic", "forward difference", "central difference"])
        let errors = comparison.rows.dropFirst().map { comparison.largestError($0)! }
        #expect(errors[0] < 1e-12 && errors[1] < 1e-12)
        #expect(errors[2] < 1e-5 && errors[3] < 1e-8 && errors[3] < errors[2])
        // Counted by hand from the graph: 6 operations, 9 edges from non-constant inputs, z read twice.
        // Reverse: 6 values + 9 local derivatives + 9 products + 1 addition at z's fan-out.
        #expect(comparison.rows[0].operations == 25)
        // Forward: per pass 6 values + 9 local derivatives + 9 products + 3 additions (three two-input nodes).
        #expect(comparison.rows[1].operations == 3 * 27)
        #expect(comparison.rows[3].operations == 4 * 6)
        #expect(comparison.rows[4].operations == 6 * 6)
        #expect(comparison.paths.totalPaths.description == "4")
        let text = comparison.render()
        #expect(text.contains("graph: 10 nodes, 10 edges"))
    }

    @Test func perVariableMethodsOverTheBudgetSayWhatTheyWouldCostInsteadOfRunning() throws {
        // Issue #24: compare with 2000 variables ran forward mode, symbolic and finite differences over every
        // variable and did not finish in 120 s. One pass per variable over 3 operations: 3n node evaluations.
        let formula = try Formula(parsing: lectureFour)
        let comparison = MethodComparison(formula: formula, at: [0, 2, -1], repeats: 1, budget: 0, maximumNodeEvaluations: 17)
        #expect(comparison.rows.map(\.method) == ["reverse mode", "forward mode", "symbolic", "forward difference", "central difference"])
        // 3 passes × 6 operations = 18 > 17 (forward mode, symbolic); 4 × 6 (forward difference); 6 × 6 (central).
        for row in comparison.rows.dropFirst() {
            #expect(row.seconds.isNaN && row.operations == nil && row.partials.allSatisfy { $0 == nil }, "\(row.method)")
        }
        #expect(comparison.rows[1].work == "3 passes × 6 operations > 17")
        #expect(comparison.rows[4].work == "6 passes × 6 operations > 17")
        #expect(comparison.render().contains("3 passes × 6 operations > 17  not run"))
        #expect(MethodComparison(formula: formula, at: [0, 2, -1], repeats: 1, budget: 0, maximumNodeEvaluations: 18).rows[1].operations == 3 * 27)
        // Thousands of variables: reverse mode alone runs, at once.
        let n = 2000
        let large = try Formula(parsing: (0..<n).map { "x\($0)*x\(($0 + 1) % n)" }.joined(separator: " + "))
        let clock = ContinuousClock()
        let start = clock.now
        let rows = MethodComparison(formula: large, at: (0..<n).map { Double($0 % 9 + 1) / 10 }, repeats: 1, budget: 0).rows
        #expect(clock.now - start < .seconds(30))
        #expect(rows[0].partials.allSatisfy { $0 != nil } && rows.dropFirst().allSatisfy { $0.seconds.isNaN })
    }
}

@Suite struct JacobianAndHessianTests {
    @Test func elementwiseSigmoidHasADiagonalJacobianInBothModes() throws {
        let function = VectorFunction(outputs: try ["sigmoid(z1)", "sigmoid(z2)", "sigmoid(z3)"].map { try Formula(parsing: $0) })
        let z = [-1.0, 0, 2]
        for mode in [JacobianModeChoice.forward, .reverse] {
            let result = function.jacobian(at: z, mode: mode.engine)
            #expect(result.passes == 3)
            for j in 0..<3 {
                for k in 0..<3 {
                    let s = 1 / (1 + exp(-z[k]))
                    #expect(Swift.abs(result.matrix[j][k] - (j == k ? s * (1 - s) : 0)) < 1e-15)
                }
            }
        }
    }

    @Test func modesAgreeWithEachOtherAndWithFiniteDifferences() throws {
        let outputs = try ["x*y + sin(z)", "exp(x - z)", "tanh(y)*x", "x^2 + y^2 + z^2"].map { try Formula(parsing: $0) }
        let function = VectorFunction(outputs: outputs)
        #expect(function.variables == ["x", "y", "z"])
        let point = [0.4, -0.7, 1.1]
        let forward = function.jacobian(at: point, mode: .forward)
        let reverse = function.jacobian(at: point, mode: .reverse)
        #expect(forward.passes == 3 && reverse.passes == 4)
        #expect(function.jacobian(at: point).mode == .forward)   // fewer inputs than outputs
        for (j, formula) in outputs.enumerated() {
            let mine = formula.variables.map { point[function.variables.firstIndex(of: $0)!] }
            let central = formula.finiteDifferenceGradient(at: mine, scheme: .central).partials
            for (k, name) in function.variables.enumerated() {
                #expect(Swift.abs(forward.matrix[j][k] - reverse.matrix[j][k]) < 1e-14)
                let expected = formula.variables.firstIndex(of: name).map { central[$0] } ?? 0
                #expect(Swift.abs(forward.matrix[j][k] - expected) < 1e-8)
            }
        }
        let json = try JSONSerialization.jsonObject(with: Data(forward.json.utf8)) as! [String: Any]
        #expect((json["jacobian"] as! [[Double]]).count == 4)
        #expect(json["passes"] as! Int == 3)
        #expect(forward.renderPasses().contains("Forward pass 3 of 3"))
        #expect(reverse.renderPasses().contains("Reverse pass 4 of 4"))
    }

    @Test func lectureFourHessianMatchesTheEntriesWorkedByHand() throws {
        let analysis = try Formula(parsing: lectureFour).hessianAnalysis(at: [0, 2, -1])
        // Variables in order z, x, y; u = x² + y·eᶻ = 3, s = sin u, c = cos u.
        let s = sin(3.0), c = cos(3.0)
        let expected: [[Double]] = [
            [-s - c, 4 * s, s + c],       // f_zz = −s·(y eᶻ)² + c·y eᶻ, f_zx = −s·2x·y eᶻ, f_zy = −s·y e²ᶻ + c·eᶻ
            [4 * s, 2 * c - 16 * s, -4 * s],  // f_xx = 2c − 4x²s, f_xy = −2x·s·eᶻ
            [s + c, -4 * s, -s],          // f_yy = −s·e²ᶻ
        ]
        for i in 0..<3 { for j in 0..<3 { #expect(Swift.abs(analysis.matrix[i][j] - expected[i][j]) < 1e-12) } }
        let trace = expected[0][0] + expected[1][1] + expected[2][2]
        #expect(Swift.abs(analysis.eigenvalues.reduce(0, +) - trace) < 1e-10)
        #expect(!analysis.isStationary())
        #expect(analysis.verdict().contains("not a stationary point"))
    }

    @Test(arguments: [
        ("(1 - x)^2 + 100*(y - x^2)^2", [1.0, 1.0], StationaryPointKind.minimum),
        ("x^2 - y^2", [0.0, 0.0], .saddle),
        ("-x^2 - 3*y^2 + x*y", [0.0, 0.0], .maximum),
        ("x^4 + y^2", [0.0, 0.0], .inconclusive),
    ])
    func stationaryPointsAreClassified(source: String, point: [Double], kind: StationaryPointKind) throws {
        let analysis = try Formula(parsing: source).hessianAnalysis(at: point)
        #expect(analysis.isStationary())
        #expect(analysis.kind == kind)
        let json = try JSONSerialization.jsonObject(with: Data(analysis.json.utf8)) as! [String: Any]
        #expect(json["stationary_point"] as? String == kind.rawValue)
    }

    @Test func rosenbrockHessianAtTheMinimumIsTheClosedForm() throws {
        let analysis = try Formula(parsing: "(1 - x)^2 + 100*(y - x^2)^2").hessianAnalysis(at: [1, 1])
        #expect(analysis.matrix == [[802, -400], [-400, 200]])
        let root = (602.0 * 602 + 4 * 400 * 400).squareRoot()
        #expect(Swift.abs(analysis.eigenvalues[0] - (1002 - root) / 2) < 1e-9)
        #expect(Swift.abs(analysis.eigenvalues[1] - (1002 + root) / 2) < 1e-9)
    }
}

@Suite struct NewtonTests {
    @Test func rosenbrockConvergesInAtMostFortyNewtonSteps() throws {
        let formula = try Formula(parsing: "(1 - x)^2 + 100*(y - x^2)^2")
        let result = NewtonMethod(steps: 100, tolerance: 1e-8).minimize(formula, from: [-1.8, 1.5])
        #expect(result.outcome == .converged)
        #expect(result.stepCount <= 40)
        #expect(Swift.abs(result.point[0] - 1) < 1e-8 && Swift.abs(result.point[1] - 1) < 1e-8)
        // The line search only accepts decreases.
        for k in 1..<result.values.count { #expect(result.values[k] <= result.values[k - 1]) }
        // Gradient descent from the same start is still far from ‖∇f‖ ≤ 1e-8 after 5000 steps.
        let descent = GradientDescent(learningRate: 1e-3, steps: 5000, tolerance: 1e-8).minimize(formula, from: [-1.8, 1.5])
        #expect(descent.outcome == .stepLimitReached)
    }

    @Test func anIndefiniteHessianIsShiftedSoTheStepStillGoesDownhill() throws {
        // At x = 0.1 the Hessian's x-entry is 12x² − 4 < 0: a plain Newton step would climb towards x = 0.
        let formula = try Formula(parsing: "x^4 - 2*x^2 + y^2")
        var shifts: [Double] = []
        let result = NewtonMethod().minimize(formula, from: [0.1, 1]) { shifts.append($0.shift) }
        #expect(result.outcome == .converged)
        #expect(Swift.abs(Swift.abs(result.point[0]) - 1) < 1e-8 && Swift.abs(result.point[1]) < 1e-8)
        #expect(shifts.contains { $0 > 0 })
        #expect(result.value < -0.999999)
    }
}

/// Forward or reverse, mapped to the engine's mode (keeps the tests' argument lists short).
private enum JacobianModeChoice {
    case forward, reverse
    var engine: Backprop.JacobianMode { self == .forward ? .forward : .reverse }
}
