import Foundation
import Testing
import BackpropNN

import BackpropCommandLine
@testable import backprop

/// Issue #24: small inputs that describe gigabytes are refused before they are read, decompressed or
/// allocated, with a message naming `--memory-limit` (default 4G).
@Suite(.serialized)
struct MemoryLimitTests {
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The test fixtures of the NN tests (IDX files).
    var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BackpropNNTests/Fixtures")
    }

    @Test func theLimitIsReadAsASize() throws {
        #expect(try MemoryBudget(parsing: "4G").bytes == 4 << 30)
        #expect(try MemoryBudget(parsing: "512m").bytes == 512 << 20)
        #expect(try MemoryBudget(parsing: "1.5G").bytes == 3 << 29)
        #expect(try MemoryBudget(parsing: "2TB").bytes == 2 << 40)
        #expect(try MemoryBudget(parsing: "1000000").bytes == 1_000_000)
        for bad in ["", "G", "0", "-1G", "abc", "1e30G", "nan"] {
            #expect(throws: UserError.self, "\(bad)") { try MemoryBudget(parsing: bad) }
        }
        expectUserError(["train", "--memory-limit", "lots"], mentioning: "--memory-limit: expected a size such as 4G")
        #expect(formatBytes(812) == "812 bytes" && formatBytes(3 << 29) == "1.5 GB" && formatBytes(200 << 20) == "200 MB")
        // A block the machine cannot give is a message, not a crash.
        #expect(throws: UserError.self) { try MemoryBudget(parsing: "8E").check(1 << 20, for: "a test", largestBlock: 1 << 62) }
    }

    @Test func aLabelOfAMillionIsRefusedBeforeTheModelIsBuilt() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("labels.csv")
        try (0..<10).map { "\($0 % 3),\($0 % 5),\($0 == 3 ? 1048575 : $0 % 2)" }.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        let out = ["--save", folder.appendingPathComponent("m.safetensors").path, "--plot", folder.appendingPathComponent("m.svg").path, "--quiet"]
        expectUserError(["train", "--data", data.path] + out, mentioning: "training MLP 2-128-1048576 (relu) with adam on 10 examples needs about")
        expectUserError(["train", "--data", data.path] + out, mentioning: "more than --memory-limit 4G (4.0 GB) allows; the largest label is 1048575")
    }

    @Test func aWideFileIsRefusedByItsModelAndALargeOneBeforeItIsRead() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("wide.csv")
        try (0..<10).map { row in (0..<20_000).map { String(($0 + row) % 2) }.joined(separator: ",") }.joined(separator: "\n")
            .write(to: data, atomically: true, encoding: .utf8)
        let out = ["--save", folder.appendingPathComponent("m.safetensors").path, "--plot", folder.appendingPathComponent("m.svg").path, "--quiet"]
        // 19 999 features × 64 hidden units: 1.3 million parameters, 36 bytes each with Adam (46 MB), and the data:
        // known from the first line, before the file is parsed.
        expectUserError(["train", "--data", data.path, "--layers", "64", "--memory-limit", "20M"] + out,
                        mentioning: "training MLP 19999-64-2 (relu) with adam (as the data's first line says, before reading it) needs about 50 MB, more than --memory-limit 20M")
        // 200 000 values of 28 bytes: refused before the file is parsed.
        expectUserError(["train", "--data", data.path, "--memory-limit", "4M"] + out, mentioning: "reading its 200000 values needs about")
        expectUserError(["train", "--data", data.path, "--memory-limit", "100K"] + out, mentioning: "the file itself needs about 391 KB")
        expectUserError(["predict", "--model", data.path, "--input", data.path, "--memory-limit", "1M"], mentioning: "--input \(data.path): reading it needs about")
    }

    @Test func aGzipBombWhoseHeaderTellsTheTruthIsMeasuredBeforeItIsDecompressed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // 76 kB of gzip declaring (truthfully) 100 000 images of 28×28: 78 MB decompressed, 13 bytes a value as data.
        try FileManager.default.copyItem(
            at: fixtures.appendingPathComponent("idx/truthful-bomb-images-idx3-ubyte.gz"),
            to: folder.appendingPathComponent("train-images-idx3-ubyte.gz"))
        let out = ["--save", folder.appendingPathComponent("m.safetensors").path, "--plot", folder.appendingPathComponent("m.svg").path, "--quiet"]
        let clock = ContinuousClock(), start = clock.now
        expectUserError(["train", "--data", folder.path, "--memory-limit", "100M"] + out,
                        mentioning: "train-images-idx3-ubyte.gz declares 100000×28×28 values, and reading them needs about 972 MB, more than --memory-limit 100M")
        #expect(clock.now - start < .seconds(5))  // decompressing 78 MB takes longer than reading a header
        expectUserError(["evaluate", "--model", "missing.safetensors", "--data", folder.path, "--memory-limit", "100M"], mentioning: "declares 100000×28×28 values")
    }

    @Test func aCheckpointWithAHugeHeaderIsMeasuredBeforeItIsParsed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var file = SafeTensorsFile(metadata: ["note": String(repeating: "x", count: 2 << 20)])
        try file.append(Tensor<Float>.zeros(shape: [1]), named: "w")
        let path = folder.appendingPathComponent("big-header.safetensors")
        try file.write(to: path)
        let csv = folder.appendingPathComponent("x.csv")
        try "1,2\n".write(to: csv, atomically: true, encoding: .utf8)
        expectUserError(["evaluate", "--model", path.path, "--memory-limit", "10M"], mentioning: "of which a header of 2.0 MB) needs about 33 MB")
        expectUserError(["predict", "--model", path.path, "--input", csv.path, "--memory-limit", "10M"], mentioning: "of which a header of 2.0 MB")
        expectUserError(["train", "--resume", path.path, "--memory-limit", "10M", "--plot", folder.appendingPathComponent("p.svg").path], mentioning: "--resume \(path.path): reading it")
        expectUserError(["generate", "--model", path.path, "--memory-limit", "10M"], mentioning: "--model \(path.path): reading it (2.0 MB, of which a header of 2.0 MB) needs about 30 MB")
        expectUserError(["generate", "--model", path.path, "--memory-limit", "many"], mentioning: "--memory-limit: expected a size such as 4G")
    }

    @Test func aLanguageModelIsMeasuredBeforeItIsBuilt() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("t.txt")
        try String(repeating: "the cat sat on the mat. ", count: 10_000).write(to: text, atomically: true, encoding: .utf8)
        let outputs = ["--save", folder.appendingPathComponent("m.safetensors").path, "--plot", folder.appendingPathComponent("p.svg").path, "--quiet"]
        // Attention weights of 4 x 65536 x 65536 per window: it was `Fatal error: failed to allocate 2199023255584 bytes`.
        expectUserError(["train", "--data", text.path, "--model", "transformer", "--context", "65536", "--width", "16", "--layers", "1"] + outputs,
                        mentioning: "use a smaller --context (the attention weights grow with its square)")
        // A batch of every window of the text.
        expectUserError(["train", "--data", text.path, "--model", "rnn", "--width", "16", "--layers", "1", "--batch-size", "9223372036854775807"] + outputs,
                        mentioning: "on batches of 240000 windows of 64 characters needs about")
        expectUserError(["train", "--data", text.path, "--model", "lstm", "--memory-limit", "1M"] + outputs, mentioning: "reading its 234 KB of text needs about")
        // A resumed checkpoint is measured before it is read, even to learn which kind of model it holds.
        var file = SafeTensorsFile(metadata: ["format": LanguageModelTrainer<Float>.formatName, "lm.kind": "rnn", "note": String(repeating: "x", count: 2 << 20)])
        try file.append(Tensor<Float>.zeros(shape: [1]), named: "w")
        let checkpoint = folder.appendingPathComponent("lm.safetensors")
        try file.write(to: checkpoint)
        expectUserError(["train", "--resume", checkpoint.path, "--data", text.path, "--memory-limit", "10M", "--plot", folder.appendingPathComponent("p.svg").path],
                        mentioning: "--resume \(checkpoint.path): reading it")
    }
}
