import Foundation
import Testing

import BackpropCommandLine
@testable import backprop

/// `grad --mode forward/--symbolic`, `compare`, `jacobian`, `hessian` and `minimize --method newton` run in-process:
/// they succeed on good input, and every user mistake is a `UserError` or a parse error (exit status 2), never a crash.
@Suite(.serialized)
struct TeachingCommandTests {
    /// Runs `arguments` and fails the test if the command throws.
    func run(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            var command = try BackpropCommand.parseCheckingArguments(arguments)
            try command.run()
        } catch {
            Issue.record("\(arguments) failed: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func goodInputRuns() throws {
        let f = "z + sin(x^2 + y*exp(z))", at = "x=2,y=-1,z=0"
        run(["grad", f, "--at", at, "--mode", "forward"])
        run(["grad", f, "--at", at, "--mode", "forward", "--trace"])
        run(["grad", f, "--at", at, "--mode", "forward", "--json"])
        run(["grad", f, "--at", at, "--symbolic"])
        run(["grad", "sqrt(x)", "--at", "x=0"])
        run(["compare", f, "--at", at])
        run(["compare", "a = x*y; b = a*a + a; b*b + b", "--at", "x=0.5,y=0.8"])
        run(["jacobian", "sigmoid(z1)", "sigmoid(z2)", "--at", "z1=-1,z2=2", "--trace"])
        run(["jacobian", "x*y", "x + y", "--at", "x=1,y=2", "--mode", "reverse", "--json"])
        run(["hessian", "(1 - x)^2 + 100*(y - x^2)^2", "--at", "x=1,y=1"])
        run(["hessian", "x^2 - y^2", "--at", "x=0,y=0", "--json"])
        run(["hessian", "log(x)", "--at", "x=0"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-newton-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plot = folder.appendingPathComponent("both.svg").path
        run(["minimize", "(1 - x)^2 + 100*(y - x^2)^2", "--from", "x=-1.8,y=1.5", "--compare", "--steps", "300", "--plot", plot])
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        #expect(svg.contains("Newton's method: ") && svg.contains("gradient descent: 300 steps"))
        #expect(svg.components(separatedBy: "<polyline").count == 3)
        run(["minimize", "x^4 - 2*x^2 + y^2", "--from", "x=0.1,y=1", "--method", "newton"])
    }

    @Test func mistakesAreUserErrors() {
        expectUserError(["grad", "x +", "--at", "x=1", "--mode", "forward"], mentioning: "unexpected end")
        expectUserError(["grad", "x", "--at", "x=1", "--mode", "sideways"], mentioning: "sideways")
        expectUserError(["grad", "x", "--at", "x=1", "--symbolic", "--json"], mentioning: "--symbolic")
        expectUserError(["grad", "x", "--at", "x=1", "--symbolic", "--mode", "forward"], mentioning: "--symbolic")
        expectUserError(["grad", "a = x; a", "--at", "a=1"], mentioning: "'a'")
        expectUserError(["compare", "x*y", "--at", "x=1"], mentioning: "'y' has no value")
        expectUserError(["compare", "x", "--at", "x=1", "--digits", "0"], mentioning: "--digits")
        expectUserError(["jacobian", "--at", "x=1"], mentioning: "formula")
        expectUserError(["jacobian", "x", "y +", "--at", "x=1,y=2"], mentioning: "output 2")
        expectUserError(["jacobian", "x", "y", "--at", "x=1,y=2,w=3"], mentioning: "'w'")
        expectUserError(["jacobian", "x", "y", "--at", "x=1"], mentioning: "'y' has no value")
        expectUserError(["jacobian", "x", "--at", "x=1", "--json", "--trace"], mentioning: "--json")
        expectUserError(["hessian", "x*y", "--at", "x=1"], mentioning: "'y' has no value")
        expectUserError(["hessian", "x*", "--at", "x=1"], mentioning: "unexpected end")
        expectUserError(["minimize", "x^2", "--from", "x=1", "--method", "bfgs"], mentioning: "bfgs")
        expectUserError(["minimize", "x^2", "--from", "x=1", "--method", "newton", "--tolerance", "-1"], mentioning: "--tolerance")
        expectUserError(["minimize", "x^2 + y + z", "--from", "x=1,y=1,z=1", "--compare", "--plot", "/tmp/p.svg"], mentioning: "two variables")
    }
}
