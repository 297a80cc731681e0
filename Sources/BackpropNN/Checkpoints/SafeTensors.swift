import Foundation

/// A file in the safetensors format (Hugging Face; what `safetensors.torch.save_file` writes).
///
/// Layout: an 8-byte little-endian header length N; N bytes of JSON mapping each tensor's name to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional `"__metadata__"` object of
/// strings); then the tensors' bytes, packed without gaps, offsets relative to the end of the header.
///
/// Reading validates everything (lengths, JSON, offsets, sizes) and throws `CheckpointError` for any
/// inconsistency; writing is atomic.
public struct SafeTensorsFile: Sendable {
    /// The tensor names, in the order their data appears in the file (the order they were added for
    /// a file built in memory).
    public private(set) var names: [String] = []
    /// The tensors by name.
    public private(set) var tensors: [String: SafeTensor] = [:]
    /// Free-form string metadata (`"__metadata__"` in the header).
    public var metadata: [String: String]

    /// The largest header the reader accepts (the format's own limit is 100 MB).
    static let maximumHeaderCount = 100_000_000

    /// Creates an empty file with the given metadata.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Adds a tensor entry under `name`.
    ///
    /// - Throws: `CheckpointError` if the name is already used, empty, or `__metadata__`.
    public mutating func append(_ tensor: SafeTensor, named name: String) throws {
        guard !name.isEmpty, name != "__metadata__" else { throw CheckpointError("'\(name)' is not a valid tensor name") }
        guard tensors[name] == nil else { throw CheckpointError("duplicate tensor name '\(name)'") }
        names.append(name)
        tensors[name] = tensor
    }

    /// Adds a tensor under `name`, stored as `F32` (Float) or `F64` (Double).
    ///
    /// - Throws: `CheckpointError` if the name is already used.
    public mutating func append<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, named name: String) throws {
        try append(SafeTensor(tensor), named: name)
    }

    /// The tensor named `name`, converted to `Scalar`.
    ///
    /// - Throws: `CheckpointError` if there is no such tensor.
    public func tensor<Scalar: TensorScalar>(named name: String, as type: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
        guard let entry = tensors[name] else {
            throw CheckpointError("no tensor named '\(name)' (the file has \(names.count): \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", …" : ""))")
        }
        return entry.tensor(as: type)
    }

    // MARK: Reading

    /// Reads and validates a safetensors file.
    ///
    /// - Throws: `CheckpointError` naming the file and the problem.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw CheckpointError("\(url.path): \(exists ? "cannot read the file: \(error.localizedDescription)" : "no such file")")
        }
        do {
            return try SafeTensorsFile(bytes: [UInt8](data))
        } catch let error as CheckpointError {
            throw CheckpointError("\(url.lastPathComponent): \(error.message)")
        }
    }

    /// Parses and validates safetensors bytes.
    ///
    /// - Throws: `CheckpointError` for a truncated file, bad JSON, unknown dtype, a size that does not
    ///   match its shape, or data offsets that are out of range, overlapping or leave gaps.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 8 else {
            throw CheckpointError("the file is \(bytes.count) bytes, too short for the 8-byte header length (truncated?)")
        }
        let headerCount = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard headerCount <= UInt64(bytes.count - 8) else {
            throw CheckpointError("header length \(headerCount) exceeds the \(bytes.count - 8) bytes after it (truncated or not a safetensors file)")
        }
        guard headerCount <= UInt64(Self.maximumHeaderCount) else {
            throw CheckpointError("header length \(headerCount) exceeds the limit of \(Self.maximumHeaderCount) bytes")
        }
        let headerEnd = 8 + Int(headerCount)
        let headerBytes = Array(bytes[8..<headerEnd])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw CheckpointError("the header does not start with '{' (not a safetensors file?)")
        }
        guard String(data: Data(headerBytes), encoding: .utf8) != nil else {
            throw CheckpointError("the header is not valid UTF-8")
        }
        let header = try SafeTensorsHeader(bytes: headerBytes)
        var entries: [(name: String, dtype: SafeTensor.DType, shape: [Int], begin: Int, end: Int)] = []
        for entry in header.entries {
            let name = entry.name
            guard let dtypeName = entry.dtype else { throw CheckpointError("'\(name)' has no dtype string") }
            guard let dtype = SafeTensor.DType(rawValue: dtypeName) else {
                throw CheckpointError("'\(name)' has unknown dtype '\(dtypeName.prefix(40))' (known: \(SafeTensor.DType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let shape = entry.shape, shape.allSatisfy({ $0 >= 0 }) else {
                throw CheckpointError("'\(name)' has no valid shape (a list of non-negative integers)")
            }
            guard let offsets = entry.offsets, offsets.count == 2, offsets[0] >= 0, offsets[1] >= offsets[0]
            else {
                throw CheckpointError("'\(name)' has invalid data_offsets (expected [begin, end] with 0 <= begin <= end)")
            }
            guard let size = SafeTensor.byteCount(dtype: dtype, shape: shape) else {
                throw CheckpointError("'\(name)' has a shape \(shape) whose size overflows")
            }
            guard offsets[1] - offsets[0] == size else {
                throw CheckpointError(
                    "'\(name)': shape \(shape) of \(dtype.rawValue) needs \(size) bytes, but data_offsets \(offsets) span \(offsets[1] - offsets[0])")
            }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        let metadata = header.metadata

        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        let bufferCount = bytes.count - headerEnd
        var expectedBegin = 0
        for entry in entries {
            guard entry.begin == expectedBegin else {
                throw CheckpointError(
                    entry.begin < expectedBegin
                        ? "'\(entry.name)' data [\(entry.begin), \(entry.end)) overlaps the previous tensor (which ends at \(expectedBegin))"
                        : "gap in the data before '\(entry.name)': bytes \(expectedBegin)..<\(entry.begin) belong to no tensor")
            }
            guard entry.end <= bufferCount else {
                throw CheckpointError(
                    "'\(entry.name)' data [\(entry.begin), \(entry.end)) runs past the end of the data (\(bufferCount) bytes; truncated?)")
            }
            expectedBegin = entry.end
        }
        guard expectedBegin == bufferCount else {
            throw CheckpointError("the data has \(bufferCount - expectedBegin) trailing bytes that belong to no tensor")
        }
        self.metadata = metadata
        for entry in entries {
            let tensor = try SafeTensor(
                dtype: entry.dtype, shape: entry.shape,
                bytes: Array(bytes[(headerEnd + entry.begin)..<(headerEnd + entry.end)]))
            try append(tensor, named: entry.name)
        }
    }

    // MARK: Writing

    /// The file's bytes: the header (metadata first, then tensors in `names` order, padded with spaces
    /// to a multiple of 8 bytes) followed by the packed data.
    public func serialized() -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            parts.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            guard let tensor = tensors[name] else { continue }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append(
                "\(jsonString(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + tensor.bytes.count)]}")
            offset += tensor.bytes.count
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + offset)
        for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64(k)))) }
        bytes += header
        for name in names { if let tensor = tensors[name] { bytes += tensor.bytes } }
        return bytes
    }

    /// Writes the file atomically: to a temporary file beside `url`, flushed, then renamed over it, so
    /// an interrupted save leaves any previous file intact.
    ///
    /// - Throws: `CheckpointError` if the file cannot be written.
    public func write(to url: URL) throws {
        try writeAtomically(serialized(), to: url)
    }

    /// Writes, failing on purpose after `failAfterByteCount` bytes (for tests of atomicity).
    func write(to url: URL, failAfterByteCount: Int?) throws {
        try writeAtomically(serialized(), to: url, failAfterByteCount: failAfterByteCount)
    }

    /// Writes named tensors (as `F32` for `Float`, `F64` for `Double`) and metadata to a safetensors
    /// file, atomically.
    ///
    /// - Throws: `CheckpointError` for a duplicate name or a failed write.
    public static func write<Scalar: TensorScalar>(
        _ tensors: [(name: String, tensor: Tensor<Scalar>)], metadata: [String: String] = [:], to url: URL
    ) throws {
        var file = SafeTensorsFile(metadata: metadata)
        for (name, tensor) in tensors { try file.append(tensor, named: name) }
        try file.write(to: url)
    }
}

/// `text` as a JSON string literal.
func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case _ where scalar.value < 0x20:
            let digits = String(scalar.value, radix: 16)
            result += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
