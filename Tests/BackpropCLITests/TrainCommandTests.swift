import Foundation
import Testing

@testable import backprop

/// `train`, `evaluate` and `predict` run in-process on small settings: what they write, and that every
/// user mistake is a `UserError` (exit status 2 with a message), never a crash.
@Suite(.serialized)
struct TrainCommandTests {
    /// A fresh temporary folder, removed by the caller.
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a command parsed from `arguments` and expects a `UserError` whose message contains `fragment`.
    func expectUserError(_ arguments: [String], mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            var command = try BackpropCommand.parseAsRoot(arguments)
            try command.run()
            Issue.record("\(arguments) succeeded; expected an error mentioning '\(fragment)'", sourceLocation: sourceLocation)
        } catch let error as UserError {
            #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
        } catch {
            // Parse errors: ArgumentParser's message, which main() also maps to status 2.
            let message = BackpropCommand.fullMessage(for: error)
            #expect(BackpropCommand.exitCode(for: error) != .success, sourceLocation: sourceLocation)
            #expect(message.contains(fragment), "message: \(message)", sourceLocation: sourceLocation)
        }
    }

    @Test func divergenceStopsWithoutOverwritingTheCheckpoint() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("good.safetensors").path
        let plot = folder.appendingPathComponent("curves.svg").path
        var good = try BackpropCommand.parseAsRoot(["train", "--epochs", "1", "--layers", "16", "--quiet", "--save", checkpoint, "--plot", plot])
        try good.run()
        let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        for extra in [[String](), ["--detect-anomaly"], ["--json"]] {
            do {
                var diverging = try BackpropCommand.parseAsRoot(
                    ["train", "--lr", "1e30", "--epochs", "2", "--layers", "16", "--quiet", "--save", checkpoint, "--plot", plot] + extra)
                try diverging.run()
                Issue.record("train --lr 1e30 \(extra) succeeded")
            } catch let failure as RunFailure {
                let expected = extra == ["--detect-anomaly"] ? "anomaly detection" : "training diverged at epoch 1"
                #expect(failure.message.contains(expected), "\(failure.message)")
                #expect(failure.message.contains("--lr"), "\(failure.message)")
                #expect(failure.message.contains("was left as it was"), "\(failure.message)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint)) == before)
        }
    }

    @Test func trainWritesCheckpointPlotAndResumes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("m.safetensors").path
        let plot = folder.appendingPathComponent("curves.svg").path
        var command = try BackpropCommand.parseAsRoot([
            "train", "--epochs", "2", "--layers", "16", "--quiet", "--save", checkpoint, "--plot", plot,
        ])
        try command.run()
        #expect(FileManager.default.fileExists(atPath: checkpoint))
        #expect(try String(contentsOfFile: plot, encoding: .utf8).hasPrefix("<svg"))
        var resume = try BackpropCommand.parseAsRoot(["train", "--resume", checkpoint, "--epochs", "3", "--quiet", "--plot", plot])
        try resume.run()
        var evaluate = try BackpropCommand.parseAsRoot(["evaluate", "--model", checkpoint, "--json"])
        try evaluate.run()

        let features = folder.appendingPathComponent("three.csv")
        let rows = (0..<3).map { row in (0..<64).map { String(($0 + row) % 17) }.joined(separator: ",") }
        try rows.joined(separator: "\n").write(to: features, atomically: true, encoding: .utf8)
        var predict = try BackpropCommand.parseAsRoot(["predict", "--model", checkpoint, "--input", features.path])
        try predict.run()

        expectUserError(["predict", "--model", checkpoint, "--input", plot], mentioning: "curves.svg")
        expectUserError(["evaluate", "--model", plot], mentioning: "curves.svg")
        expectUserError(["train", "--resume", plot, "--plot", plot, "--quiet"], mentioning: "curves.svg")
    }

    @Test func badFlagsAndFilesAreUserErrors() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let ragged = folder.appendingPathComponent("ragged.csv")
        try "1,2,0\n3,4\n".write(to: ragged, atomically: true, encoding: .utf8)
        let letters = folder.appendingPathComponent("letters.csv")
        try "1,2,0\n3,x,1\n5,6,0\n".write(to: letters, atomically: true, encoding: .utf8)
        expectUserError(["train", "--epochs", "0"], mentioning: "--epochs")
        expectUserError(["train", "--layers", "12,x"], mentioning: "--layers")
        expectUserError(["train", "--activation", "swish"], mentioning: "swish")
        expectUserError(["train", "--optimizer", "lbfgs"], mentioning: "lbfgs")
        expectUserError(["train", "--schedule", "wobbly"], mentioning: "--schedule")
        expectUserError(["train", "--test-fraction", "1"], mentioning: "--test-fraction")
        expectUserError(["train", "--data", "/no/such/file.csv"], mentioning: "/no/such/file.csv")
        expectUserError(["train", "--data", ragged.path, "--quiet"], mentioning: "line 2")
        expectUserError(["train", "--data", letters.path, "--quiet"], mentioning: "line 2")
        expectUserError(["train", "--save", "/no/such/folder/m.safetensors"], mentioning: "/no/such/folder")
        expectUserError(["train", "--plot", "/no/such/folder/p.svg"], mentioning: "/no/such/folder")
        expectUserError(["train", "--frobnicate"], mentioning: "--frobnicate")
        expectUserError(["evaluate", "--model", "/no/such/model.safetensors"], mentioning: "/no/such/model.safetensors")
    }
}
