import Foundation

/// An array in NumPy's `.npy` format (versions 1.0, 2.0 and 3.0), C order.
///
/// Reads little- and big-endian `f2`/`f4`/`f8`, signed and unsigned integers of 1 to 8 bytes, and
/// `b1` booleans; Fortran-order arrays and other types (structured, strings, objects) are rejected
/// with a `DataError` of kind `.unsupported`.
public struct NPYArray: Sendable {
    /// The kinds of elements an `.npy` file can hold that this reader understands.
    public enum ElementKind: Character, Sendable {
        /// IEEE floating point (`f`).
        case float = "f"
        /// Signed integer (`i`).
        case signedInteger = "i"
        /// Unsigned integer (`u`).
        case unsignedInteger = "u"
        /// Boolean (`b`), one byte, 0 or 1.
        case boolean = "b"
    }

    /// The NumPy type description, such as `<f4`.
    public let descr: String
    /// The element kind.
    public let kind: ElementKind
    /// The size of one element in bytes.
    public let byteCount: Int
    /// Whether the values are stored big-endian.
    public let isBigEndian: Bool
    /// The dimensions (empty for a 0-d array).
    public let shape: [Int]
    /// The raw values.
    private let payload: [UInt8]

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Parses `.npy` data.
    ///
    /// - Throws: `DataError` describing a malformed header, unsupported type or size mismatch.
    public init(bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { throw DataError(.empty, "the .npy data is empty") }
        guard bytes.count >= 10, Array(bytes[0..<6]) == Self.magic else {
            throw DataError(.corrupt, "not an .npy file (missing the \\x93NUMPY magic string)")
        }
        let major = bytes[6]
        var headerStart = 10
        var headerCount: Int
        switch major {
        case 1:
            headerCount = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw DataError(.corrupt, "truncated .npy header") }
            headerCount = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw DataError(.unsupported, ".npy format version \(major).\(bytes[7]) is not supported (1.0, 2.0, 3.0 are)")
        }
        guard headerCount <= bytes.count - headerStart else {
            throw DataError(.corrupt, ".npy header of \(headerCount) bytes runs past the end of the file (\(bytes.count) bytes)")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerCount)], as: UTF8.self)
        var parser = PythonLiteralParser(text: header)
        let dictionary = try parser.parseHeaderDictionary()

        guard case .string(let descr)? = dictionary["descr"] else {
            throw DataError(.corrupt, ".npy header has no 'descr' string: \(header.prefix(120))")
        }
        guard case .boolean(let fortranOrder)? = dictionary["fortran_order"] else {
            throw DataError(.corrupt, ".npy header has no 'fortran_order' flag")
        }
        guard !fortranOrder else {
            throw DataError(.unsupported, "Fortran-order .npy arrays are not supported; save a C-order array (numpy.ascontiguousarray)")
        }
        guard case .tuple(let shape)? = dictionary["shape"], shape.allSatisfy({ $0 >= 0 }) else {
            throw DataError(.corrupt, ".npy header has no valid 'shape' tuple")
        }
        let characters = Array(descr)
        guard characters.count >= 3, let order = characters.first, "<>|=".contains(order),
            let kind = ElementKind(rawValue: characters[1]), let size = Int(String(characters[2...])),
            [1, 2, 4, 8].contains(size), kind != .boolean || size == 1, kind != .float || size >= 2
        else {
            throw DataError(.unsupported, ".npy element type '\(descr)' is not supported (floats, integers and booleans are)")
        }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw DataError(.corrupt, ".npy shape \(shape) overflows") }
            count = product
        }
        let dataStart = headerStart + headerCount
        let (dataCount, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, bytes.count - dataStart == dataCount else {
            throw DataError(
                .corrupt,
                ".npy size mismatch: shape \(shape) of '\(descr)' needs \(overflow ? "too many" : String(dataCount)) bytes, found \(bytes.count - dataStart)")
        }
        self.descr = descr
        self.kind = kind
        self.byteCount = size
        self.isBigEndian = order == ">"
        self.shape = shape
        self.payload = Array(bytes[dataStart...])
    }

    /// Reads an `.npy` file.
    public static func read(from url: URL) throws -> NPYArray {
        do {
            return try NPYArray(bytes: try readFileBytes(at: url))
        } catch let error as DataError {
            throw error.located(in: url)
        }
    }

    /// The raw bits of element `index`, assembled from its bytes in the stored order.
    private func bits(at index: Int) -> UInt64 {
        let at = index * byteCount
        var value: UInt64 = 0
        for k in 0..<byteCount {
            let byte = UInt64(payload[at + (isBigEndian ? k : byteCount - 1 - k)])
            value = value << 8 | byte
        }
        return value
    }

    /// The value at flat (row-major) index `index`, as a `Double` (64-bit integers beyond 2⁵³ round).
    ///
    /// - Precondition: `0 <= index < count`.
    public func value(at index: Int) -> Double {
        let raw = bits(at: index)
        switch (kind, byteCount) {
        case (.float, 2): return Double(halfToFloat(UInt16(truncatingIfNeeded: raw)))
        case (.float, 4): return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
        case (.float, _): return Double(bitPattern: raw)
        case (.signedInteger, _):
            let shift = UInt64(64 - 8 * byteCount)
            return Double(Int64(bitPattern: raw << shift) >> Int64(shift))
        case (.unsignedInteger, _), (.boolean, _): return Double(raw)
        }
    }

    /// The values as a tensor of the same shape.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func tensor<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
        Tensor(shape: shape, scalars: (0..<count).map { Scalar(value(at: $0)) })
    }

    /// The values as integers, or nil if the array holds floats that are not all integers.
    public func integers() -> [Int]? {
        var result = [Int]()
        result.reserveCapacity(count)
        for index in 0..<count {
            switch kind {
            case .signedInteger:
                let shift = UInt64(64 - 8 * byteCount)
                result.append(Int(Int64(bitPattern: bits(at: index) << shift) >> Int64(shift)))
            case .unsignedInteger, .boolean:
                let raw = bits(at: index)
                guard raw <= UInt64(Int.max) else { return nil }
                result.append(Int(raw))
            case .float:
                let value = value(at: index)
                guard value == value.rounded(), abs(value) < 0x1p62 else { return nil }
                result.append(Int(value))
            }
        }
        return result
    }

    /// The bytes of an `.npy` file holding `scalars` with `shape` as `<f4` (Float) or `<f8` (Double).
    static func serialize<Scalar: TensorScalar>(shape: [Int], scalars: [Scalar]) -> [UInt8] {
        serialize(shape: shape, descr: "<f\(MemoryLayout<Scalar>.size)", data: littleEndianBytes(scalars))
    }

    /// The bytes of an `.npy` version 1.0 file (2.0 if the header needs it) holding `data` with `shape`
    /// and type `descr`, C order, header padded to 64 bytes.
    static func serialize(shape: [Int], descr: String, data: [UInt8]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let headerBytes = Array(header.utf8)
        var bytes = magic + [1, 0]
        if headerBytes.count <= 0xFFFF {
            bytes += [UInt8(headerBytes.count & 0xFF), UInt8(headerBytes.count >> 8)]
        } else {
            // Version 2.0 has a 4-byte header length; re-pad for its 12-byte preamble.
            bytes[6] = 2
            var long = header.trimmingCharacters(in: .whitespacesAndNewlines)
            long += String(repeating: " ", count: (64 - (12 + long.utf8.count + 1) % 64) % 64) + "\n"
            let longBytes = Array(long.utf8)
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: longBytes.count >> (8 * $0)) }
            return bytes + longBytes + data
        }
        return bytes + headerBytes + data
    }
}

extension NPYArray {
    /// Writes integers (class labels, predictions) as an `.npy` file of type `<i8`, atomically.
    ///
    /// - Parameters:
    ///   - integers: the values, in row-major order.
    ///   - shape: the array's shape; nil for a 1-d array of `integers.count` values.
    ///   - url: the file to write.
    /// - Precondition: the shape's product equals `integers.count`.
    /// - Throws: `CheckpointError` if the file cannot be written.
    public static func write(integers: [Int], shape: [Int]? = nil, to url: URL) throws {
        let shape = shape ?? [integers.count]
        precondition(shape.reduce(1, *) == integers.count, "NPYArray.write: shape \(shape) does not hold \(integers.count) values")
        var data = [UInt8]()
        data.reserveCapacity(integers.count * 8)
        for value in integers {
            for k in 0..<8 { data.append(UInt8(truncatingIfNeeded: Int64(value) >> (8 * Int64(k)))) }
        }
        try writeAtomically(serialize(shape: shape, descr: "<i8", data: data), to: url)
    }
}

extension Tensor {
    /// Reads a tensor from an `.npy` file, converting its values to `Scalar`.
    ///
    /// - Throws: `DataError` for a missing, malformed or unsupported file.
    public init(npyAt url: URL) throws {
        self = try NPYArray.read(from: url).tensor(as: Scalar.self)
    }

    /// Writes the tensor as an `.npy` file (`<f4` for `Float`, `<f8` for `Double`), atomically.
    ///
    /// - Throws: `CheckpointError` if the file cannot be written.
    public func writeNPY(to url: URL) throws {
        try writeAtomically(NPYArray.serialize(shape: shape, scalars: scalars), to: url)
    }
}

/// The values of a Python literal in an `.npy` header.
enum PythonLiteral: Equatable {
    case string(String)
    case boolean(Bool)
    case tuple([Int])
}

/// Parses the Python dictionary literal of an `.npy` header: string keys; string, boolean or
/// integer-tuple values.
struct PythonLiteralParser {
    private let characters: [Character]
    private var index = 0

    init(text: String) { characters = Array(text) }

    private func error(_ message: String) -> DataError {
        DataError(.corrupt, ".npy header: \(message) at character \(index + 1)")
    }

    private mutating func skipSpace() {
        while index < characters.count && characters[index].isWhitespace { index += 1 }
    }

    private mutating func expect(_ character: Character) throws {
        skipSpace()
        guard index < characters.count && characters[index] == character else { throw error("expected '\(character)'") }
        index += 1
    }

    private mutating func peek() -> Character? {
        skipSpace()
        return index < characters.count ? characters[index] : nil
    }

    mutating func parseHeaderDictionary() throws -> [String: PythonLiteral] {
        try expect("{")
        var result: [String: PythonLiteral] = [:]
        while peek() != "}" {
            let key = try parseString()
            try expect(":")
            result[key] = try parseValue()
            if peek() == "," { index += 1 } else { break }
        }
        try expect("}")
        return result
    }

    private mutating func parseString() throws -> String {
        guard let quote = peek(), quote == "'" || quote == "\"" else { throw error("expected a string") }
        index += 1
        let start = index
        while index < characters.count && characters[index] != quote { index += 1 }
        guard index < characters.count else { throw error("unterminated string") }
        defer { index += 1 }
        return String(characters[start..<index])
    }

    private mutating func parseValue() throws -> PythonLiteral {
        switch peek() {
        case "'", "\"": return .string(try parseString())
        case "(": return .tuple(try parseTuple())
        case "T", "F":
            for (word, value) in [("True", true), ("False", false)] where characters[index...].starts(with: word) {
                index += word.count
                return .boolean(value)
            }
            throw error("expected True or False")
        default: throw error("unexpected value")
        }
    }

    private mutating func parseTuple() throws -> [Int] {
        try expect("(")
        var values: [Int] = []
        while peek() != ")" {
            let start = index
            while index < characters.count && characters[index].isNumber { index += 1 }
            // Python 2 era files may write long integers as 3L.
            guard index > start, index - start < 19, let value = Int(String(characters[start..<index])) else {
                throw error("expected a non-negative integer in the shape")
            }
            if index < characters.count && characters[index] == "L" { index += 1 }
            values.append(value)
            if peek() == "," { index += 1 } else { break }
        }
        try expect(")")
        return values
    }
}
