import BackpropNN
import Foundation
import Testing

/// Checkpoints carry the input preprocessing, so raw rows get the training-time answers: the bundled digits
/// written out as a CSV file evaluate as the bundled set does, `predict` on raw rows gives their labels, and
/// a checkpoint written before this loads with a warning saying what is assumed. Run as a user runs the
/// tool (its own process), to read what it prints.
@Suite(.serialized)
struct PreprocessingCommandTests {
    /// The `backprop` executable beside the test bundle.
    var tool: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("backprop") }

    /// Runs the tool; returns its standard output and standard error, expecting exit status 0.
    func run(_ arguments: [String], in folder: URL) throws -> (output: String, errors: String) {
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let result = (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        #expect(process.terminationStatus == 0, "\(arguments): \(result.1)")
        return result
    }

    /// The last line of `text` as a JSON object.
    func json(_ text: String) throws -> [String: Any] {
        let line = text.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func rawRowsGetTheBundledSetsAnswers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-preprocessing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // The bundled digits as a CSV of their raw pixel values 0…16, the label last, as digits.csv holds them.
        let digits = try Dataset<Float>.digits()
        let rows = (0..<digits.count).map { row in
            (0..<64).map { String(Int((digits.features[index: row, $0] * 16).rounded())) }.joined(separator: ",") + ",\(digits.labels[row])"
        }
        try (rows.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("all.csv"), atomically: true, encoding: .utf8)
        try (rows.prefix(8).map { $0.split(separator: ",").dropLast().joined(separator: ",") }.joined(separator: "\n") + "\n")
            .write(to: folder.appendingPathComponent("first.csv"), atomically: true, encoding: .utf8)

        _ = try run(["train", "--epochs", "10", "--save", "digits.safetensors", "--plot", "digits.svg", "--quiet"], in: folder)
        let bundled = try json(run(["evaluate", "--model", "digits.safetensors", "--all", "--json"], in: folder).output)
        let fromCSV = try json(run(["evaluate", "--model", "digits.safetensors", "--data", "all.csv", "--all", "--json"], in: folder).output)
        #expect(fromCSV["accuracy"] as? Double == bundled["accuracy"] as? Double)
        #expect(fromCSV["loss"] as? Double == bundled["loss"] as? Double)
        #expect((bundled["accuracy"] as? Double ?? 0) > 0.97)

        // predict on raw rows answers as the model does on the bundled (scaled, standardised) rows; the first
        // five are the README's example rows, classified right.
        let predicted = try json(run(["predict", "--model", "digits.safetensors", "--input", "first.csv", "--json"], in: folder).output)
        let trainer = try ClassifierTrainer<Float>(resumingFrom: Checkpoint.load(from: folder.appendingPathComponent("digits.safetensors")))
        let normalization = try #require(try Checkpoint.load(from: folder.appendingPathComponent("digits.safetensors")).normalization(as: Float.self))
        let expected = trainer.evaluate(on: normalization.apply(digits.subset(Array(0..<8)))).predictions
        #expect(predicted["predictions"] as? [String] == expected.map(String.init))
        #expect(expected.prefix(5) == digits.labels.prefix(5))
    }

    @Test func aCheckpointWithoutPreprocessingLoadsWithAWarningSayingWhatIsAssumed() throws {
        let legacy = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../BackpropNNTests/Fixtures/legacy/digits-mlp-16.safetensors").standardizedFileURL
        let folder = FileManager.default.temporaryDirectory
        let (output, errors) = try run(["evaluate", "--model", legacy.path, "--all", "--json"], in: folder)
        #expect(errors.contains("warning: --model \(legacy.path): the checkpoint records no input preprocessing"))
        #expect(errors.contains("assuming raw pixel values 0 to 16 divided by 16"))
        // What the build that wrote it gave on the bundled set (Fixtures/legacy/README.md's run, --all).
        let accuracy = try #require(try json(output)["accuracy"] as? Double)
        #expect(abs(accuracy - 0.6221480244852532) < 1e-12)
    }
}
