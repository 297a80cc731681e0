import Foundation
import Testing
import BackpropNN

import BackpropCommandLine
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

    @Test func trainsACNNWhoseCheckpointRebuildsItForEvaluateResumeAndPredict() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("cnn.safetensors").path
        let plot = folder.appendingPathComponent("cnn.svg").path
        var command = try BackpropCommand.parseAsRoot([
            "train", "--architecture", "conv:4:3:p1,bn,relu,maxpool:2,conv:8:3:s2:p1,relu,gap", "--epochs", "2",
            "--batch-size", "64", "--lr", "0.01", "--quiet", "--save", checkpoint, "--plot", plot,
        ])
        try command.run()
        let saved = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint))
        #expect(saved.metadata["architecture"] == "conv:4:3:p1,bn,relu,maxpool:2,conv:8:3:s2:p1,relu,gap")
        #expect(saved.metadata["example_shape"] == "1x8x8")
        // Layer 0 is the Unflatten to 1×8×8, so the names are PyTorch's for nn.Sequential(nn.Unflatten, …).
        #expect(saved.contains("1.weight") && saved.contains("2.running_mean") && saved.contains("2.num_batches_tracked"))
        #expect(try saved.tensor(named: "2.num_batches_tracked", as: Float.self).scalars == [46])  // 2 epochs × 23 batches
        var resume = try BackpropCommand.parseAsRoot(["train", "--resume", checkpoint, "--epochs", "3", "--quiet", "--plot", plot])
        try resume.run()
        let resumed = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint))
        #expect(try resumed.tensor(named: "2.num_batches_tracked", as: Float.self).scalars == [69])
        var evaluate = try BackpropCommand.parseAsRoot(["evaluate", "--model", checkpoint, "--json"])
        try evaluate.run()
        let features = folder.appendingPathComponent("two.csv")
        try ["0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,15,14,13,12,11,10,9,8,7,6,5,4,3,2,1,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,15,14,13,12,11,10,9,8,7,6,5,4,3,2,1",
             (0..<64).map { _ in "3" }.joined(separator: ",")].joined(separator: "\n").write(to: features, atomically: true, encoding: .utf8)
        var predict = try BackpropCommand.parseAsRoot(["predict", "--model", checkpoint, "--input", features.path])
        try predict.run()
        // The built-in CNN trains on the bundled digits too (1×8×8 is large enough for its two poolings).
        var preset = try BackpropCommand.parseAsRoot(["train", "--model", "cnn", "--epochs", "1", "--quiet", "--save", checkpoint, "--plot", plot])
        try preset.run()
    }

    @Test func convolutionalNetworkMistakesAreUserErrors() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = ["--save", folder.appendingPathComponent("x.safetensors").path, "--plot", folder.appendingPathComponent("x.svg").path, "--quiet"]
        expectUserError(["train", "--architecture", "conv:4", "--epochs", "1"] + out, mentioning: "conv:OUT:K")
        expectUserError(["train", "--architecture", "conv:4:3:q1", "--epochs", "1"] + out, mentioning: "option 'q1'")
        expectUserError(["train", "--architecture", "conv:4:3,pool:2", "--epochs", "1"] + out, mentioning: "unknown layer")
        expectUserError(["train", "--architecture", "conv:4:9", "--epochs", "1"] + out, mentioning: "does not fit")
        expectUserError(["train", "--architecture", "linear:8,conv:4:3", "--epochs", "1"] + out, mentioning: "needs an image")
        expectUserError(["train", "--model", "cnn", "--architecture", "conv:4:3", "--epochs", "1"] + out, mentioning: "not both")
        expectUserError(["train", "--model", "cnn", "--layers", "64", "--epochs", "1"] + out, mentioning: "--architecture")
        expectUserError(["train", "--model", "cnn", "--image-shape", "1x8", "--epochs", "1"] + out, mentioning: "CxHxW")
        expectUserError(["train", "--model", "cnn", "--image-shape", "1x9x9", "--epochs", "1"] + out, mentioning: "64 features")
        expectUserError(["train", "--image-shape", "1x8x8", "--epochs", "1"] + out, mentioning: "--image-shape applies")
        expectUserError(["train", "--model", "resnet", "--epochs", "1"] + out, mentioning: "resnet")
        expectUserError(["train", "--architecture", "conv:65536:3:p1,conv:65536:3:p1", "--epochs", "1"] + out, mentioning: "would not fit in memory")
        expectUserError(["train", "--layers", "65536,65536", "--epochs", "1"] + out, mentioning: "parameters, more than")
        // A CSV file has no image shape: a convolution then needs --image-shape.
        let csv = folder.appendingPathComponent("flat.csv")
        try (0..<20).map { row in (0..<17).map { String(($0 * row) % 5) }.joined(separator: ",") }.joined(separator: "\n")
            .write(to: csv, atomically: true, encoding: .utf8)
        expectUserError(["train", "--data", csv.path, "--model", "cnn", "--epochs", "1"] + out, mentioning: "--image-shape")
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
