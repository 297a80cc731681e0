import Foundation
import Testing

import BackpropCommandLine
@testable import backprop_bench

/// `backprop-bench`'s arguments and data: the bundled moons file is found and read, a missing or malformed
/// one is named in a user error, and an unknown workload is named with the known ones. (Timings are the
/// benchmark's own business, not a unit test's.)
struct BenchCommandTests {
    /// Parses and runs `arguments` and expects a `UserError` (or parse error) whose message holds `fragment`.
    func expectUserError(_ arguments: [String], mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            var command = try BenchCommand.parseCheckingArguments(arguments)
            try command.run()
            Issue.record("\(arguments) succeeded; expected an error mentioning '\(fragment)'", sourceLocation: sourceLocation)
        } catch let error as UserError {
            #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
        } catch {
            let message = BenchCommand.fullMessage(for: error)
            #expect(BenchCommand.exitCode(for: error) != .success, sourceLocation: sourceLocation)
            #expect(message.contains(fragment), "message: \(message)", sourceLocation: sourceLocation)
        }
    }

    @Test func bundledMoonsAreMicrogradsData() throws {
        let moons = try MoonsData(contentsOf: MoonsData.bundledFile)
        #expect(moons.points.count == 100)
        #expect(moons.labels.filter { $0 == 1 }.count == 50)
        #expect(moons.points[0].0 == 1.3561737160849392 && moons.points[0].1 == -0.33694213016569713)
        // The loss before the first SGD step, which the workload's check quotes.
        let model = BenchScalarMLP(moons: moons)
        #expect(Swift.abs(model.step() - 1.396) < 5e-4)
    }

    @Test func missingOrMalformedMoonsFileIsNamed() throws {
        let missing = "/nonexistent/moons.csv"
        expectUserError(["micrograd-mlp", "--moons", missing], mentioning: missing)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("moons-\(UUID().uuidString).csv")
        try "x1,x2,label\n0.5,0.25,1\n0.5,oops,-1\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        expectUserError(["micrograd-mlp", "--moons", file.path], mentioning: "line 3")
    }

    @Test func unknownWorkloadIsNamed() {
        expectUserError(["mlp-stpe"], mentioning: "unknown workload 'mlp-stpe'")
        expectUserError(["run", "nothing"], mentioning: "known: mlp-step")
    }

    @Test func soakRefusesNonPositiveCounts() {
        expectUserError(["soak", "--steps", "0"], mentioning: "--steps")
    }
}
