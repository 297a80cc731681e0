import Foundation
import Testing
@testable import BackpropNN
import BackpropFiles

@Suite struct SafeTensorsTests {
    /// A file from a hand-written header and data (the header padded as the format allows).
    private func file(header: String, data: [UInt8]) -> [UInt8] {
        let headerBytes = Array(header.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(headerBytes.count) >> (8 * UInt64($0))) } + headerBytes + data
    }

    private func message(_ bytes: [UInt8]) -> String? {
        do { _ = try SafeTensorsFile(bytes: bytes); return nil } catch let error as CheckpointError { return error.message } catch { return "\(error)" }
    }

    @Test func roundTripsFloatDoubleAndMetadata() throws {
        let url = try temporaryDirectory().appendingPathComponent("model.safetensors")
        let weight = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6.5])
        let bias = Tensor<Float>([0.5, -0.25])
        try SafeTensorsFile.write([("w", weight), ("b", bias)], metadata: ["epoch": "3", "quote\"d": "a\nb"], to: url)
        let read = try SafeTensorsFile.read(from: url)
        #expect(read.names == ["w", "b"])
        #expect(read.metadata == ["epoch": "3", "quote\"d": "a\nb"])
        #expect(read.tensors["w"]?.dtype == .float32)
        #expect(try read.tensor(named: "w", as: Float.self) == weight)
        #expect(try read.tensor(named: "b", as: Double.self).scalars == [0.5, -0.25])
        let raw = try bytes(of: url)
        let headerCount = Int(raw[0]) | Int(raw[1]) << 8
        #expect((8 + headerCount) % 8 == 0)

        var doubles = SafeTensorsFile()
        try doubles.append(Tensor<Double>(shape: [], scalars: [1.0 / 3]), named: "scalar")
        try doubles.append(Tensor<Double>(shape: [0, 4], scalars: []), named: "empty")
        let reread = try SafeTensorsFile(bytes: doubles.serialized())
        #expect(reread.tensors["scalar"]?.dtype == .float64)
        #expect(try reread.tensor(named: "scalar", as: Double.self).scalar == 1.0 / 3)
        #expect(try reread.tensor(named: "empty", as: Double.self).shape == [0, 4])
        #expect(throws: CheckpointError.self) { try reread.tensor(named: "missing", as: Float.self) }
        #expect(throws: CheckpointError.self) { try doubles.append(Tensor<Double>([1]), named: "scalar") }
    }

    @Test func decodesHalfBFloatAndIntegerTypes() throws {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF, smallest subnormal = 0x0001.
        let half = file(
            header: #"{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"i":{"dtype":"I64","shape":[1],"data_offsets":[12,20]}}"#,
            data: [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00] + [0x80, 0x3F, 0x20, 0xC1] + [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        let parsed = try SafeTensorsFile(bytes: half)
        #expect(parsed.names == ["h", "b", "i"])
        #expect(try parsed.tensor(named: "h", as: Float.self).scalars == [1, -2, 65504, 0x1p-24])
        #expect(try parsed.tensor(named: "b", as: Float.self).scalars == [1, -10])
        #expect(try parsed.tensor(named: "i", as: Double.self).scalars == [-2])
    }

    @Test func rejectsInconsistentFilesWithClearMessages() {
        let four: [UInt8] = [0, 0, 128, 63]
        #expect(message([1, 2, 3])?.contains("too short") == true)
        #expect(message([200, 0, 0, 0, 0, 0, 0, 0, 0x7B])?.contains("exceeds") == true)
        #expect(message(file(header: "{nope", data: []))?.contains("not valid JSON") == true)
        #expect(message(file(header: "[1]", data: []))?.contains("does not start with '{'") == true)
        #expect(message(file(header: #"{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}"#, data: [0]))?.contains("unknown dtype 'Q8'") == true)
        #expect(message(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: four))?.contains("needs 8 bytes") == true)
        #expect(message(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: []))?.contains("runs past the end") == true)
        #expect(message(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: four + four))?.contains("gap") == true)
        #expect(message(
            file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: four))?
            .contains("overlaps") == true)
        #expect(message(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: four + four))?.contains("trailing") == true)
        #expect(message(file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: four))?.contains("shape") == true)
        #expect(message(
            file(header: #"{"a":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: four))?
            .contains("overflows") == true)
        #expect(message(file(header: #"{"__metadata__":{"k":1}}"#, data: []))?.contains("not a string") == true)
        #expect(message(file(header: "{}        ", data: [])) == nil)
        // Deep nesting must be rejected, not overflow the stack.
        let deep = "{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(message(file(header: deep, data: [])) != nil)
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: CheckpointError("/nonexistent/x.safetensors: no such file")) {
            try SafeTensorsFile.read(from: URL(fileURLWithPath: "/nonexistent/x.safetensors"))
        }
    }

    @Test func neverCrashesOnTruncationOrFlippedBytes() throws {
        var small = SafeTensorsFile(metadata: ["a": "b"])
        try small.append(Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4]), named: "w")
        try small.append(Tensor<Double>([5]), named: "b")
        let valid = small.serialized()
        for length in 0..<valid.count {
            #expect(throws: CheckpointError.self) { try SafeTensorsFile(bytes: Array(valid[..<length])) }
        }
        let pytorch = try bytes(of: fixture("pytorch_mlp.safetensors"))
        var generator = SeededGenerator(seed: 77)
        for _ in 0..<400 {
            var damaged = Bool.random(using: &generator) ? valid : Array(pytorch.prefix(400))
            for _ in 0..<(1 + uniformIndex(below: 3, using: &generator)) {
                let index = uniformIndex(below: Swift.min(damaged.count, 300), using: &generator)
                damaged[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = try? SafeTensorsFile(bytes: damaged)
        }
    }

    @Test func theHeaderParserReadsWhatJSONAllows() throws {
        // Issue #24: the header is read by a parser of its own (JSONSerialization took 1 GB for a 16 MB header).
        let data: [UInt8] = [0, 0, 128, 63, 0, 0, 0, 64]  // two F32 values, 1 and 2
        let header = #"""
            { "__metadata__" : { "a\"b\\c\/d" : "\u00e9\ud83d\ude00\n\t\b\f\r", "empty": "" } ,
               "wéight": {"extra": [1, {"deep": [true, false, null, -1.5e3]}], "dtype":"F32", "shape":[ 2 ],
                          "data_offsets":[0,8], "more": "x"} }
            """#
        let read = try SafeTensorsFile(bytes: file(header: header, data: data))
        #expect(read.metadata == ["a\"b\\c/d": "é😀\n\t\u{08}\u{0C}\r", "empty": ""])
        #expect(try read.tensor(named: "wéight", as: Float.self).scalars == [1, 2])
        #expect(try SafeTensorsFile(bytes: file(header: "{}", data: [])).names.isEmpty)
        let deep = "{\"w\": {\"x\": " + String(repeating: "[", count: 100) + "]}}"
        let bad: [(String, String)] = [
            (#"{"w": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}"#, "'w' has no valid shape"),
            (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 99999999999999999999]}}"#, "does not fit in 64 bits"),
            (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}"#, "expected ',' or '}'"),
            (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}} x"#, "unexpected data after the header's object"),
            (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": "\q"}}"#, "unknown escape \\q"),
            (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": "\ud83d"}}"#, "lone high surrogate"),
            (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": tru}}"#, "unexpected character"),
            (deep, "nested deeper than 64"),
            ("{\"w\": {\"dtype\": \"F\u{01}\"}}", "control character inside a string"),
            (#"{"__metadata__": {"k": 3}}"#, "__metadata__ value for 'k' is not a string"),
            (#"{"__metadata__": [1]}"#, "__metadata__ is not a JSON object"),
            (#"{"w": 3}"#, "entry 'w' is not a JSON object"),
            (#"{"w": {"shape": [2], "data_offsets": [0, 8]}, "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, "'w' has no dtype string"),
        ]
        for (text, fragment) in bad {
            let problem = message(file(header: text, data: data)) ?? "accepted"
            #expect(problem.contains(fragment), "\(text): \(problem)")
        }
        // What JSONSerialization reads, this parser reads alike: entries written by the writer, round trips.
        var written = SafeTensorsFile(metadata: ["quote\"s": "line\nbreak\u{01}", "ü": "✓"])
        for k in 0..<20 { try written.append(Tensor<Float>(repeating: Float(k), shape: [k % 3, 2]), named: "layer.\(k).weight") }
        let reread = try SafeTensorsFile(bytes: written.serialized())
        #expect(reread.names == written.names && reread.metadata == written.metadata && reread.tensors == written.tensors)
    }

    @Test func interruptedWriteLeavesPreviousFileIntact() throws {
        let directory = try temporaryDirectory()
        let url = directory.appendingPathComponent("checkpoint.safetensors")
        try SafeTensorsFile.write([("w", Tensor<Float>([1, 2, 3]))], metadata: ["epoch": "1"], to: url)
        let before = try bytes(of: url)

        var next = SafeTensorsFile(metadata: ["epoch": "2"])
        try next.append(Tensor<Float>(repeating: 7, shape: [100]), named: "w")
        for failure in [0, 1, 8, 100, next.serialized().count] {
            #expect(throws: AtomicFile.InjectedFailure.self) { try next.write(to: url, failAfterByteCount: failure) }
            #expect(try bytes(of: url) == before)
        }
        // No temporary files are left behind, and a completed write replaces the file.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["checkpoint.safetensors"])
        try next.write(to: url)
        #expect(try SafeTensorsFile.read(from: url).metadata["epoch"] == "2")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["checkpoint.safetensors"])
    }

    @Test func writingIntoAMissingDirectoryFailsCleanly() {
        let url = URL(fileURLWithPath: "/nonexistent-directory/x.safetensors")
        #expect(throws: CheckpointError.self) { try SafeTensorsFile.write([("w", Tensor<Float>([1]))], to: url) }
    }
}
