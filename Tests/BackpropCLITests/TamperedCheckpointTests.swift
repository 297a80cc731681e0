import Foundation
import Testing
import BackpropNN

import BackpropCommandLine
@testable import backprop

/// Issue #24: a tampered or unusual checkpoint (metadata out of range, sizes it does not hold, values that are
/// not finite, a state dict with an empty layer) gets a message and exit status 2 from `evaluate`, `predict`
/// and `train --resume`, never a trap or an allocation of what the metadata claims.
@Suite(.serialized)
struct TamperedCheckpointTests {
    /// A folder with a good checkpoint (MLP 64-16-10 on the digits, one epoch) and a CSV of two examples.
    struct Workspace {
        let folder: URL
        let good: Checkpoint
        let features: String
        let plot: String

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-tampered-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("good.safetensors").path
            plot = folder.appendingPathComponent("p.svg").path
            var train = try BackpropCommand.parseAsRoot(["train", "--epochs", "1", "--layers", "16", "--quiet", "--save", path, "--plot", plot])
            try train.run()
            good = try Checkpoint.load(from: URL(fileURLWithPath: path))
            features = folder.appendingPathComponent("two.csv").path
            try (0..<2).map { row in (0..<64).map { String(($0 + row) % 16) }.joined(separator: ",") }.joined(separator: "\n")
                .write(toFile: features, atomically: true, encoding: .utf8)
        }

        /// Saves `checkpoint` under `name` and returns its path.
        func save(_ checkpoint: Checkpoint, as name: String) throws -> String {
            let url = folder.appendingPathComponent(name)
            try checkpoint.save(to: url)
            return url.path
        }

        /// The good checkpoint with one metadata entry changed.
        func tampered(_ key: String, _ value: String) throws -> String {
            var checkpoint = good
            checkpoint.metadata[key] = value
            return try save(checkpoint, as: "\(key).safetensors")
        }

        /// The good checkpoint with tensor `name` replaced.
        func replacing(_ name: String, with tensor: SafeTensor, metadata: [String: String]? = nil) throws -> String {
            var file = SafeTensorsFile(metadata: metadata ?? good.metadata)
            for other in good.names { try file.append(other == name ? tensor : good.file.tensors[other]!, named: other) }
            return try save(Checkpoint(file: file), as: "replaced-\(name).safetensors")
        }
    }

    /// Every command that reads a checkpoint must refuse `path` with a message containing `fragment`.
    func expectRefused(_ path: String, _ fragment: String, in workspace: Workspace, resume: Bool = true, predict: Bool = true,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        expectUserError(["evaluate", "--model", path], mentioning: fragment, sourceLocation: sourceLocation)
        if predict { expectUserError(["predict", "--model", path, "--input", workspace.features], mentioning: fragment, sourceLocation: sourceLocation) }
        if resume {
            expectUserError(["train", "--resume", path, "--epochs", "3", "--quiet", "--plot", workspace.plot], mentioning: fragment, sourceLocation: sourceLocation)
        }
    }

    @Test func metadataOutOfRangeIsRefused() throws {
        let workspace = try Workspace()
        defer { try? FileManager.default.removeItem(at: workspace.folder) }
        let cases: [(key: String, value: String, fragment: String)] = [
            ("batch_size", "0", "batch_size must be positive, got 0"),
            ("batch_size", "x", "batch_size must be an integer"),
            ("learning_rate", "nan", "learning_rate must be a positive number finite as a 32-bit float"),
            ("learning_rate", "1e39", "learning_rate must be a positive number finite as a 32-bit float, got 1e+39"),
            ("dropout", "2", "dropout must lie in [0, 1), got 2.0"),
            ("epochs", "-1", "epochs must not be negative"),
            ("hidden_widths", "16,0", "hidden_widths must be comma-separated positive widths"),
            ("hidden_widths", "16,x", "hidden_widths must be comma-separated positive widths"),
            ("hidden_widths", "2000000", "hidden_widths must be widths from 1 to"),
            ("input_size", "0", "input_size must be an integer of at least 1"),
            ("input_size", "400000000", "parameters, more than the 268435456 this tool allows"),
            ("input_size", "1000000", "but the file holds"),
            ("class_count", "0", "class_count must be an integer of at least 1"),
            ("class_count", "99999999999999999999", "class_count must be an integer"),
            ("optimizer", "lbfgs", "optimizer must be one of"),
            ("optimizer_step", "-3", "optimizer_step must be an integer of at least 0"),
            ("schedule", "exponential:inf", "schedule exponential:FACTOR needs a positive finite factor"),
            ("seed", "-1", "seed must be an integer from 0"),
            ("max_gradient_norm", "1e39", "max_gradient_norm must be a positive number finite as a 32-bit float"),
            ("architecture", "conv:0:3", "architecture cannot be read"),
            ("history", "1e300,0.001,1,1,1,1,1", "training history entry"),
            ("history", "2,0.001,1,1,1,1,1", "lists epoch 2 in place 1"),
        ]
        for (key, value, fragment) in cases {
            expectRefused(try workspace.tampered(key, value), fragment, in: workspace)
        }
        // A schedule whose rate overflows only in epochs the run has not reached stops the resumed run that would.
        let schedule = try workspace.tampered("schedule", "exponential:1e30")
        #expect(workspace.good.metadata["epochs"] == "1")
        var evaluate = try BackpropCommand.parseAsRoot(["evaluate", "--model", schedule])
        try evaluate.run()
        expectUserError(["train", "--resume", schedule, "--epochs", "3", "--quiet", "--plot", workspace.plot],
                        mentioning: "schedule exponential:1e+30 makes the learning rate of epoch 3")
        // The held-out fraction is read by evaluate (on the data the model was trained on) and by a resumed run.
        let fraction = try workspace.tampered("test_fraction", "1.5")
        expectRefused(fraction, "test_fraction must lie strictly between 0 and 1", in: workspace, predict: false)
    }

    @Test func tensorsThatAreNotFiniteOrDoNotFitAreRefused() throws {
        let workspace = try Workspace()
        defer { try? FileManager.default.removeItem(at: workspace.folder) }
        let weight = workspace.good.file.tensors["0.weight"]!
        var values = weight.tensor(as: Double.self).scalars
        values[7] = .nan
        expectRefused(try workspace.replacing("0.weight", with: SafeTensor(Tensor<Double>(shape: weight.shape, scalars: values))),
                      "0.weight holds nan at element 7", in: workspace)
        values[7] = 1e39  // finite as F64, infinite as the Float model
        expectRefused(try workspace.replacing("0.weight", with: SafeTensor(Tensor<Double>(shape: weight.shape, scalars: values))),
                      "0.weight holds inf at element 7", in: workspace)
        let std = workspace.good.file.tensors["normalization.std"]!
        var scales = std.tensor(as: Float.self).scalars
        scales[3] = 0
        expectRefused(try workspace.replacing("normalization.std", with: SafeTensor(Tensor<Float>(shape: std.shape, scalars: scales))),
                      "normalization.std contains 0 or a non-finite value", in: workspace, resume: false)
        let moment = workspace.good.names.first { $0.hasPrefix("optimizer.") }!
        let stored = workspace.good.file.tensors[moment]!
        let broken = Tensor<Float>(repeating: .infinity, shape: stored.shape)
        expectUserError(["train", "--resume", try workspace.replacing(moment, with: SafeTensor(broken)), "--epochs", "3", "--quiet", "--plot", workspace.plot],
                        mentioning: "\(moment) holds a value that is not finite")
    }

    @Test func stateDictsWithEmptyLayersAreRefused() throws {
        let workspace = try Workspace()
        defer { try? FileManager.default.removeItem(at: workspace.folder) }
        func stateDict(_ shapes: [(String, [Int])], name: String) throws -> String {
            var file = SafeTensorsFile()
            for (tensor, shape) in shapes { try file.append(Tensor<Float>.zeros(shape: shape), named: tensor) }
            return try workspace.save(Checkpoint(file: file), as: name)
        }
        let emptyHidden = try stateDict([("0.weight", [0, 64]), ("0.bias", [0]), ("2.weight", [10, 0]), ("2.bias", [10])], name: "empty-hidden.safetensors")
        expectRefused(emptyHidden, "make no usable MLP: hidden_widths", in: workspace, resume: false)
        let noInputs = try stateDict([("0.weight", [16, 0]), ("0.bias", [16]), ("2.weight", [10, 16]), ("2.bias", [10])], name: "no-inputs.safetensors")
        expectRefused(noInputs, "make no usable MLP: input_size must be positive", in: workspace, resume: false)
        let noClasses = try stateDict([("0.weight", [0, 64]), ("0.bias", [0])], name: "no-classes.safetensors")
        expectRefused(noClasses, "make no usable MLP: class_count must be positive", in: workspace, resume: false)
    }
}
