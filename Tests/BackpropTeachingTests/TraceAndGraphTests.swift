import Foundation
import Testing
@testable import BackpropTeaching

private let lecture002 = "(x + σ(x)) / (σ(x) + (x + y)^2)"

@Suite struct TraceAndGraphTests {
    @Test func forwardTableHasTheSlidesNumbers() throws {
        let graph = try Formula(parsing: lecture002).graph(at: VariableValues(parsing: "x=4,y=3"))
        let trace = Trace(graph: graph)
        func step(_ symbol: String) -> [ForwardStep] {
            trace.forward.filter { graph.formula.operationSymbol($0.node) == symbol }
        }
        let sigmoids = step("σ(·)")
        #expect(sigmoids.count == 2)
        for s in sigmoids {
            #expect(formatSignificant(s.output, digits: 3) == "0.982")
            #expect(formatSignificant(s.localPartials[0], digits: 3) == "0.0177")
        }
        let square = try #require(step("·^2").first)
        #expect(square.output == 49 && square.localPartials[0] == 14)
        let reciprocal = try #require(step("1/·").first)
        #expect(formatSignificant(reciprocal.inputs[0].value, digits: 5) == "49.982")
        #expect(formatSignificant(reciprocal.output, digits: 1) == "0.02")
        #expect(formatSignificant(reciprocal.localPartials[0], digits: 1) == "-0.0004")
        let product = try #require(trace.forward.last)
        #expect(formatSignificant(product.output, digits: 3) == "0.0997")
        #expect(formatSignificant(product.localPartials[0], digits: 1) == "0.02")
        #expect(formatSignificant(product.localPartials[1], digits: 4) == "4.982")
        #expect(step("· + ·").map { formatSignificant($0.output, digits: 5) } == ["4.982", "7", "49.982"])
    }

    @Test func backwardTableSumsAtBranchesAndMatchesTheEngine() throws {
        let graph = try Formula(parsing: lecture002).graph(at: VariableValues(parsing: "x=4,y=3"))
        let trace = Trace(graph: graph)
        // The lecture's backward numbers: 1/· receives 4.982 and passes −0.00199; ·^2 passes −0.0279.
        let reciprocal = try #require(trace.backward.first { graph.formula.operationSymbol($0.node) == "1/·" })
        #expect(formatSignificant(reciprocal.gradient, digits: 4) == "4.982")
        #expect(formatSignificant(reciprocal.downstream[0], digits: 3) == "-0.00199")
        let square = try #require(trace.backward.first { graph.formula.operationSymbol($0.node) == "·^2" })
        #expect(formatSignificant(square.downstream[0], digits: 3) == "-0.0279")
        // x fans out to four nodes; its row sums four arrivals.
        let x = try #require(trace.backward.first { $0.name == "x" })
        #expect(x.upstream.count == 4)
        #expect(agree(x.gradient, x.upstream.reduce(0) { $0 + $1.value }))
        // Every node's hand-summed gradient equals the engine's.
        for (mine, engine) in zip(trace.gradients, graph.gradients) {
            #expect((mine == nil) == (engine == nil))
            if let mine, let engine { #expect(agree(mine, engine), "\(mine) vs engine \(engine)") }
        }
        #expect(agree(try #require(graph.result.partial("x")), -0.007594005508783548))
        let text = trace.render()
        for expected in ["0.982014", "49.982", "0.0996761", "0.0176627", "14", "-0.000400288", "= -0.00759401"] {
            #expect(text.contains(expected), "trace lacks \(expected)")
        }
    }

    @Test func traceGradientsMatchTheEngineOnEveryOperation() throws {
        let formulas = [
            "z + sin(x^2 + y*exp(z))", "(x + y)*max(y, z)", "min(x, y) - abs(z) / (1 + x^2)", "tanh(x) * relu(y - z)",
            "sqrt(x^2 + 1) + log(1 + y^2) + tan(z/3) - cos(x*y)", "x^y + 2^z", "-x^2 + x*x*x",
        ]
        for formula in formulas {
            let expression = try Formula(parsing: formula)
            let point = ["x": 0.7, "y": 1.3, "z": -0.4]
            let graph = expression.graph(at: expression.variables.map { point[$0]! })
            for (mine, engine) in zip(Trace(graph: graph).gradients, graph.gradients) {
                if let mine, let engine { #expect(agree(mine, engine), "\(formula): \(mine) vs engine \(engine)") }
            }
        }
    }

    @Test func dotHasOneNodePerExpressionNodeAndEdgesAlongEvaluation() throws {
        let expression = try Formula(parsing: "(a+b)*(b+1)")
        let dot = expression.graph(at: [2, 1]).dot()
        #expect(dot.hasPrefix("digraph computation {"))
        #expect(dot.hasSuffix("}\n"))
        let nodeLines = dot.split(separator: "\n").filter { $0.contains("[shape=") }
        #expect(nodeLines.count == expression.nodes.count)
        let edges = dot.split(separator: "\n").filter { $0.contains("->") }
        #expect(edges.count == expression.nodes.reduce(0) { $0 + $1.inputs.count })
        // b (node 1) feeds a + b (node 2) and b + 1 (node 4); a + b and b + 1 feed the product.
        #expect(dot.contains("n1 -> n2 [label=\"i2\"]") && dot.contains("n1 -> n4 [label=\"i1\"]"))
        #expect(dot.contains("n2 -> n5") && dot.contains("n4 -> n5"))
        #expect(dot.contains("label=\"b\\nvalue 1\\ngrad 5\""))
        #expect(dot.contains("value 6\\ngrad 1"))
    }

    @Test func svgRunsGraphvizWhenInstalledAndSaysSoWhenNot() throws {
        let dot = try Formula(parsing: "x*y").graph(at: [2, 3]).dot()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-dot-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A stand-in for Graphviz: checks the arguments, copies the DOT it reads to the -o file.
        let fake = directory + "/dot"
        try writeText("#!/bin/sh\n[ \"$1\" = -Tsvg ] && [ \"$2\" = -o ] && cat > \"$3\"\n", to: fake)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        let output = directory + "/graph.svg"
        try renderSVG(dot: dot, to: output, executable: fake)
        #expect(try String(contentsOfFile: output, encoding: .utf8) == dot)
        #expect(graphvizExecutable(environment: ["PATH": directory]) == fake)
        #expect(graphvizExecutable(environment: ["PATH": "/nonexistent"]) == nil)
        do {
            try renderSVG(dot: dot, to: output, executable: nil)
            Issue.record("rendering without dot should fail")
        } catch let error as GraphvizError {
            #expect(error.message.contains("not installed"))
        }
    }

    @Test func checkAgreesWithFiniteDifferences() throws {
        let report = try Formula(parsing: "x1^2*x2+cos(x3)").checkGradients(at: VariableValues(parsing: "x1=1.5,x2=-2,x3=0.7"))
        #expect(report.variables == ["x1", "x2", "x3"])
        #expect(report.passes(tolerance: 1e-6))
        #expect(report.render(tolerance: 1e-6).contains("ok"))
    }

    @Test func jsonHasFullPrecision() throws {
        let result = try evaluate("z + sin(x^2 + y*exp(z))", at: "x=2,y=-1,z=0")
        let object = try JSONSerialization.jsonObject(with: Data(result.json.utf8)) as! [String: Any]
        #expect(agree(try #require(object["value"] as? Double), result.value))
        let gradient = try #require(object["gradient"] as? [String: Double])
        #expect(gradient.keys.sorted() == ["x", "y", "z"])
        // 17 significant digits read back as the same float64.
        for value in [result.value] + result.gradient { #expect(Double(jsonNumber(value)) == value) }
        // The variables in the formula's order (of first use), as every command lists them.
        #expect(result.json.hasPrefix("{\"value\": 0.14112000805986721, \"gradient\": {\"z\": 1.9899924966004454, \"x\": -3.9599699864017817"))
    }
}

@Suite struct MinimizeTests {
    static let rosenbrock = "(1 - x)^2 + 100*(y - x^2)^2"

    @Test func rosenbrockReachesNearOneOne() throws {
        let expression = try Formula(parsing: Self.rosenbrock)
        let descent = GradientDescent(learningRate: 1e-3, steps: 20_000)
        var visited = 0
        let result = descent.minimize(expression, from: [-1.8, 1.5]) { _ in visited += 1 }
        #expect(result.outcome == .stepLimitReached)
        #expect(result.stepCount == 20_000 && visited == 20_001)
        #expect(Swift.abs(result.point[0] - 1) < 1e-3 && Swift.abs(result.point[1] - 1) < 1e-3)
        #expect(result.value < 1e-6)
    }

    @Test func toleranceStopsEarlyAndDecayShrinksSteps() throws {
        let expression = try Formula(parsing: "(x - 3)^2")
        let result = GradientDescent(learningRate: 0.1, steps: 1000, tolerance: 1e-8).minimize(expression, from: [0])
        #expect(result.outcome == .converged && result.stepCount < 200)
        #expect(Swift.abs(result.point[0] - 3) < 1e-8)
        let decaying = GradientDescent(learningRate: 0.1, steps: 10, decay: 1)
        #expect(decaying.learningRate(atStep: 9) == 0.01)
        let diverging = GradientDescent(learningRate: 10, steps: 10_000).minimize(expression, from: [0])
        #expect(diverging.outcome == .diverged)
    }

    @Test func contourPlotIsWritten() throws {
        let expression = try Formula(parsing: Self.rosenbrock)
        let result = GradientDescent(learningRate: 1e-3, steps: 2000).minimize(expression, from: [-1.8, 1.5])
        let svg = try ContourPlot(resolution: 40, levelCount: 10).svg(of: expression, path: result.path, title: "Rosenbrock")
        #expect(svg.hasPrefix("<svg") && svg.contains("</svg>"))
        #expect(svg.contains("<polyline") && svg.components(separatedBy: "<path").count > 5)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-contour-\(UUID()).svg").path
        try writeText(svg, to: file)
        #expect(FileManager.default.fileExists(atPath: file))
        try? FileManager.default.removeItem(atPath: file)
        #expect(throws: ContourPlotError.self) { try ContourPlot().svg(of: try Formula(parsing: "x^2"), path: [[1]], title: "") }
        #expect(throws: FileWriteError.self) { try writeText("x", to: "/nonexistent-directory/plot.svg") }
    }

    @Test func marchingSquaresCases() {
        #expect(marchingSquaresSegments(0, 0, 0, 0, level: 1).isEmpty)
        #expect(marchingSquaresSegments(2, 2, 2, 2, level: 1).isEmpty)
        // Only the bottom-left corner above: a segment from the left edge to the bottom edge.
        let one = marchingSquaresSegments(2, 0, 0, 0, level: 1)
        #expect(one.count == 1 && one[0].0 == (0, 0.5) && one[0].1 == (0.5, 0))
        #expect(marchingSquaresSegments(2, 0, 2, 0, level: 1).count == 2)
        #expect(marchingSquaresSegments(.nan, 0, 2, 0, level: 1).isEmpty)
    }
}
