import Foundation
import Testing
import BackpropNN

import BackpropCommandLine
@testable import backprop

/// Issue #24: what a careless or hostile user gives `train`, `evaluate`, `predict`, `grad` and `minimize` gets
/// a message and exit status 2 (or 1 for a run that diverged), never a trap, a NaN checkpoint over a good one,
/// or an output written over an input.
@Suite(.serialized)
struct HostileInputTests {
    /// A fresh temporary folder, removed by the caller.
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a command that must succeed.
    func run(_ arguments: [String]) throws {
        var command = try BackpropCommand.parseAsRoot(arguments)
        try command.run()
    }

    /// Trains the small default run into `folder`/good.safetensors and returns its path.
    func goodCheckpoint(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("good.safetensors").path
        try run(["train", "--epochs", "1", "--layers", "16", "--quiet", "--save", path, "--plot", folder.appendingPathComponent("good.svg").path])
        return path
    }

    @Test func aDivergedEpochNeverReplacesTheCheckpoint() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = try goodCheckpoint(in: folder)
        let plot = folder.appendingPathComponent("p.svg").path
        let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        // One batch an epoch: every batch's loss and gradient are finite, the update makes the weights NaN.
        for extra in [["--epochs", "1"], ["--epochs", "3"], ["--epochs", "1", "--json"]] {
            do {
                try run(["train", "--lr", "1e30", "--batch-size", "2000", "--layers", "16", "--quiet", "--save", checkpoint, "--plot", plot] + extra)
                Issue.record("train --lr 1e30 --batch-size 2000 \(extra) succeeded")
            } catch let failure as RunFailure {
                // The held-out loss or the weights themselves (which one depends on how far the step overflowed).
                #expect(failure.message.contains("training diverged at epoch 1: "), "\(failure.message)")
                #expect(failure.message.contains("after its last update") || failure.message.contains("held-out loss"), "\(failure.message)")
                #expect(failure.message.contains("was left as it was"), "\(failure.message)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint)) == before)
        }
        // The library: the epoch is not recorded. A step of 3e38 times gradients above 1 overflows the weights;
        // one of 1e30 leaves them finite but the held-out loss NaN.
        let digits = try Dataset<Float>.digits()
        let large = Dataset(features: digits.features * 100, labels: digits.labels)
        for (rate, cause) in [(3e38, TrainingDiverged.Cause.parameters), (1e30, .testLoss)] {
            var trainer = ClassifierTrainer<Float>(
                configuration: TrainingConfiguration(hiddenWidths: [8], epochs: 1, batchSize: 4096, optimizer: .sgd, learningRate: rate),
                inputSize: 64, classCount: 10)
            do {
                try trainer.train(on: rate > 1e35 ? large : digits, evaluatingOn: digits)
                Issue.record("lr \(rate): no divergence")
            } catch let diverged as TrainingDiverged {
                #expect(diverged.cause == cause, "lr \(rate): \(diverged)")
            }
            #expect(trainer.history.isEmpty)
        }
    }

    @Test func realNumberFlagsMustBeFiniteAsTheFloatsThatHoldThem() {
        expectUserError(["train", "--lr", "1e39"], mentioning: "--lr must be a positive number finite as a 32-bit float")
        expectUserError(["train", "--lr", "1e-50"], mentioning: "is 0 as a 32-bit float")
        expectUserError(["train", "--lr", "nan"], mentioning: "--lr")
        expectUserError(["train", "--clip-norm", "1e39"], mentioning: "--clip-norm")
        expectUserError(["train", "--dropout", "nan"], mentioning: "--dropout")
        expectUserError(["train", "--test-fraction", "nan"], mentioning: "--test-fraction")
        expectUserError(["train", "--schedule", "exponential:1e30", "--epochs", "3", "--quiet"], mentioning: "--schedule exponential:1e+30 makes the learning rate of epoch 3")
        expectUserError(["train", "--schedule", "step:1:1e39", "--quiet"], mentioning: "--schedule")
    }

    @Test func integerFlagsNeverOverflow() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = ["--save", folder.appendingPathComponent("m.safetensors").path, "--plot", folder.appendingPathComponent("m.svg").path, "--quiet"]
        // A batch larger than the data is the whole data: one step an epoch.
        try run(["train", "--batch-size", "9223372036854775807", "--epochs", "1", "--layers", "8"] + out)
        expectUserError(["train", "--model", "cnn", "--image-shape", "4294967296x4294967296x1"] + out, mentioning: "--image-shape")
        expectUserError(["train", "--batch-size", "-9223372036854775808"] + out, mentioning: "--batch-size")
        expectUserError(["train", "--epochs", "99999999999999999999"] + out, mentioning: "--epochs")
    }

    @Test func resumeRefusesTheFlagsItWouldIgnore() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = try goodCheckpoint(in: folder)
        let plot = folder.appendingPathComponent("p.svg").path
        expectUserError(["train", "--resume", checkpoint, "--layers", "32", "--plot", plot], mentioning: "--layers cannot be given with --resume")
        expectUserError(["train", "--resume", checkpoint, "--lr", "0.1", "--seed", "3", "--plot", plot], mentioning: "--lr, --seed cannot be given")
        expectUserError(["train", "--resume", checkpoint, "--model", "mlp", "--plot", plot], mentioning: "--model")
        // --epochs (the new total) may change.
        try run(["train", "--resume", checkpoint, "--epochs", "2", "--quiet", "--plot", plot])
    }

    @Test func outputsNeverLandOnInputsOrOnEachOther() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("d.csv")
        let rows = (0..<40).map { row in "\(row % 7),\(row % 3),\(row % 5),\(row % 2)" }.joined(separator: "\n")
        try rows.write(to: data, atomically: true, encoding: .utf8)
        let plot = folder.appendingPathComponent("p.svg").path
        let save = folder.appendingPathComponent("m.safetensors").path
        expectUserError(["train", "--data", data.path, "--save", data.path, "--plot", plot, "--quiet"], mentioning: "--save \(data.path) is the file --data reads")
        expectUserError(["train", "--data", data.path, "--plot", data.path, "--save", save, "--quiet"], mentioning: "--plot \(data.path) is the file --data reads")
        // Other spellings of the same file: a relative path with "..", a symbolic link, a hard link.
        let spelled = folder.appendingPathComponent("sub/../d.csv").path
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        expectUserError(["train", "--data", data.path, "--save", spelled, "--plot", plot, "--quiet"], mentioning: "is the file --data reads")
        let symbolic = folder.appendingPathComponent("link.csv").path
        try FileManager.default.createSymbolicLink(atPath: symbolic, withDestinationPath: data.path)
        expectUserError(["train", "--data", symbolic, "--save", data.path, "--plot", plot, "--quiet"], mentioning: "is the file --data reads")
        let hard = folder.appendingPathComponent("hard.csv").path
        try FileManager.default.linkItem(atPath: data.path, toPath: hard)
        expectUserError(["train", "--data", data.path, "--save", hard, "--plot", plot, "--quiet"], mentioning: "is the file --data reads")
        #expect(try String(contentsOf: data, encoding: .utf8) == rows)
        // Two outputs on one file.
        expectUserError(["train", "--data", data.path, "--save", save, "--plot", save, "--quiet"], mentioning: "--save and --plot both name")
        expectUserError(["grad", "x*y", "--at", "x=1,y=2", "--dot", plot, "--svg", plot], mentioning: "--dot and --svg both name")
        // A resumed run saves over its checkpoint by design; its plot may not.
        try run(["train", "--data", data.path, "--epochs", "1", "--save", save, "--plot", plot, "--quiet"])
        let checkpoint = try Data(contentsOf: URL(fileURLWithPath: save))
        expectUserError(["train", "--data", data.path, "--resume", save, "--plot", save, "--quiet"], mentioning: "--plot \(save) is the file --resume reads")
        #expect(try Data(contentsOf: URL(fileURLWithPath: save)) == checkpoint)
        try run(["train", "--data", data.path, "--resume", save, "--epochs", "2", "--plot", plot, "--quiet"])
        try run(["train", "--data", data.path, "--resume", save, "--save", save, "--epochs", "3", "--plot", plot, "--quiet"])
    }

    @Test func aLanguageModelNeverWritesIntoTheFolderOfTextsItReads() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let texts = folder.appendingPathComponent("texts")
        try FileManager.default.createDirectory(at: texts.appendingPathComponent("more"), withIntermediateDirectories: true)
        let text = String(repeating: "the cat sat on the mat. ", count: 40)
        let first = texts.appendingPathComponent("a.txt")
        try text.write(to: first, atomically: true, encoding: .utf8)
        try text.write(to: texts.appendingPathComponent("more/b.txt"), atomically: true, encoding: .utf8)
        let plot = folder.appendingPathComponent("p.svg").path
        let model = ["train", "--model", "rnn", "--width", "8", "--layers", "1", "--epochs", "1", "--steps-per-epoch", "1", "--quiet"]
        // Over one of its files (it was replaced by the checkpoint), or a new file there (read as text next time).
        expectUserError(model + ["--data", texts.path, "--save", first.path, "--plot", plot], mentioning: "--save \(first.path) is in the folder --data reads")
        expectUserError(model + ["--data", texts.path, "--save", folder.appendingPathComponent("m.safetensors").path, "--plot", texts.appendingPathComponent("more/p.svg").path],
                        mentioning: "is in the folder --data reads")
        expectUserError(model + ["--data", texts.path + "/", "--save", texts.appendingPathComponent("more/../new.safetensors").path, "--plot", plot],
                        mentioning: "is in the folder --data reads")
        #expect(try String(contentsOf: first, encoding: .utf8) == text)
        #expect(try FileManager.default.contentsOfDirectory(atPath: texts.path).sorted() == ["a.txt", "more"])
        // Beside the folder is fine.
        try run(model + ["--data", texts.path, "--save", folder.appendingPathComponent("m.safetensors").path, "--plot", plot])
    }

    @Test func jsonLinesNameTheNumbersJSONCannotHold() throws {
        let line = try jsonLine(["loss": Double.nan, "rates": [1.5, Double.infinity, -Double.infinity], "nested": ["x": Float.nan]])
        #expect(line == #"{"loss":"nan","nested":{"x":"nan"},"rates":[1.5,"inf","-inf"]}"#)
    }

    @Test func predictRefusesInputsThatAreNotFiniteAsFloats() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = try goodCheckpoint(in: folder)
        let row = (0..<64).map { String($0 % 16) }
        func csv(_ name: String, replacingValue5With value: String) throws -> String {
            var second = row
            second[5] = value
            let url = folder.appendingPathComponent(name)
            try [row.joined(separator: ","), second.joined(separator: ",")].joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        expectUserError(["predict", "--model", checkpoint, "--input", try csv("big.csv", replacingValue5With: "1e39")], mentioning: "line 2: column 6: 1e+39 is not finite as a 32-bit float")
        expectUserError(["predict", "--model", checkpoint, "--input", try csv("nan.csv", replacingValue5With: "nan")], mentioning: "line 2: column 6: 'nan' is not a finite number")
        expectUserError(["predict", "--model", checkpoint, "--input", try csv("inf.csv", replacingValue5With: "-inf")], mentioning: "line 2: column 6")
        for (name, value) in [("nan.npy", Double.nan), ("inf.npy", Double.infinity), ("big.npy", 1e39)] {
            var values = (0..<128).map { Double($0 % 16) }
            values[64 + 5] = value
            let url = folder.appendingPathComponent(name)
            try Tensor<Double>(shape: [2, 64], scalars: values).writeNPY(to: url)
            expectUserError(["predict", "--model", checkpoint, "--input", url.path], mentioning: "example 1, value 5 is")
        }
        // Training data is held to the same rule.
        expectUserError(["train", "--data", try csv("train.csv", replacingValue5With: "1e39"), "--quiet"], mentioning: "not finite as a 32-bit float")
    }

    @Test func imagesWithoutPixelsAreRefusedOnTheMLPPath() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func idx(_ name: String, type: UInt8, shape: [Int], payload: [UInt8]) throws {
            var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
            for dimension in shape { bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: dimension >> $0) } }
            try Data(bytes + payload).write(to: folder.appendingPathComponent(name))
        }
        for part in ["train", "t10k"] {
            try idx("\(part)-images-idx3-ubyte", type: 0x08, shape: [2, 0, 0], payload: [])
            try idx("\(part)-labels-idx1-ubyte", type: 0x08, shape: [2], payload: [0, 1])
        }
        let out = ["--save", folder.appendingPathComponent("m.safetensors").path, "--plot", folder.appendingPathComponent("m.svg").path, "--quiet"]
        expectUserError(["train", "--data", folder.path] + out, mentioning: "images of shape 0×0 hold no pixels")
        expectUserError(["train", "--data", folder.path, "--model", "cnn"] + out, mentioning: "no pixels")
    }
}
