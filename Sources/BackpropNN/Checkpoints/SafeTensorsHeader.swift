/// The JSON header of a safetensors file, read by a parser that knows its form (an object of tensor entries
/// `{"dtype", "shape", "data_offsets"}` and an optional `"__metadata__"` object of strings), in memory
/// proportional to the header: Foundation's JSONSerialization took 60 bytes per byte of header (1 GB for a
/// 16 MB header; the format allows 100 MB).
struct SafeTensorsHeader {
    /// One tensor's entry, as the header gives it.
    struct Entry {
        var name: String
        var dtype: String?
        var shape: [Int]?
        var offsets: [Int]?
    }

    /// The tensor entries, in header order.
    private(set) var entries: [Entry] = []
    /// The `__metadata__` strings.
    private(set) var metadata: [String: String] = [:]

    /// The deepest nesting of arrays and objects skipped inside an entry.
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private var position = 0

    /// Parses the header's bytes.
    ///
    /// - Throws: `CheckpointError` saying what is wrong and at which byte of the header.
    init(bytes: [UInt8]) throws {
        self.bytes = bytes
        skipSpace()
        try expect(UInt8(ascii: "{"), "the header is not a JSON object")
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"), "expected ':' after the key '\(key.prefix(60))'")
                skipSpace()
                if key == "__metadata__" {
                    try readMetadata()
                } else {
                    entries.append(try entry(named: key))
                }
                skipSpace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "}"), "expected ',' or '}' after the entry '\(key.prefix(60))'")
                break
            }
        }
        skipSpace()
        guard position == bytes.count else { throw error("unexpected data after the header's object") }
    }

    // MARK: The header's parts

    /// `"__metadata__": {"key": "value", …}`.
    private mutating func readMetadata() throws {
        guard peek() == UInt8(ascii: "{") else { throw CheckpointError("__metadata__ is not a JSON object") }
        position += 1
        skipSpace()
        if peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            skipSpace()
            let key = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"), "expected ':' in __metadata__")
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw CheckpointError("__metadata__ value for '\(key.prefix(60))' is not a string") }
            metadata[key] = try string()
            skipSpace()
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "}"), "expected ',' or '}' in __metadata__")
            return
        }
    }

    /// One tensor's `{"dtype": …, "shape": […], "data_offsets": […]}`; other keys are skipped.
    private mutating func entry(named name: String) throws -> Entry {
        guard peek() == UInt8(ascii: "{") else { throw CheckpointError("entry '\(name.prefix(60))' is not a JSON object") }
        position += 1
        var entry = Entry(name: name)
        skipSpace()
        if peek() == UInt8(ascii: "}") { position += 1; return entry }
        while true {
            skipSpace()
            let key = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"), "expected ':' in the entry '\(name.prefix(60))'")
            skipSpace()
            switch key {
            case "dtype" where peek() == UInt8(ascii: "\""): entry.dtype = try string()
            case "shape": entry.shape = try integers()
            case "data_offsets": entry.offsets = try integers()
            default: try skipValue(depth: 0)
            }
            skipSpace()
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "}"), "expected ',' or '}' in the entry '\(name.prefix(60))'")
            return entry
        }
    }

    /// A JSON array of integers, or nil when the value is anything else (skipped).
    private mutating func integers() throws -> [Int]? {
        let start = position
        guard peek() == UInt8(ascii: "[") else {
            try skipValue(depth: 0)
            return nil
        }
        position += 1
        var result: [Int] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") { position += 1; return result }
        while true {
            skipSpace()
            guard let value = try integer() else {
                // Not an array of integers: skip it whole.
                position = start
                try skipValue(depth: 0)
                return nil
            }
            result.append(value)
            skipSpace()
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "]"), "expected ',' or ']' in an array of integers")
            return result
        }
    }

    // MARK: JSON values

    /// An integer (digits with an optional minus sign), or nil without consuming anything when the next
    /// value is not one (a fraction, an exponent, a string, …).
    private mutating func integer() throws -> Int? {
        var end = position
        if end < bytes.count && bytes[end] == UInt8(ascii: "-") { end += 1 }
        let digitsStart = end
        while end < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) { end += 1 }
        guard end > digitsStart else { return nil }
        if end < bytes.count && [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[end]) { return nil }
        guard let value = Int(String(decoding: bytes[position..<end], as: UTF8.self)) else {
            throw error("the integer \(String(decoding: bytes[position..<Swift.min(end, position + 40)], as: UTF8.self)) does not fit in 64 bits")
        }
        position = end
        return value
    }

    /// A JSON string, its escapes decoded.
    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""), "expected a string")
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flushRun(_ end: Int) {
            if end > runStart { scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars) }
        }
        while true {
            guard position < bytes.count else { throw error("unterminated string") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                flushRun(position)
                position += 1
                return String(scalars)
            }
            guard byte >= 0x20 else { throw error("a control character inside a string") }
            guard byte == UInt8(ascii: "\\") else {
                position += 1
                continue
            }
            flushRun(position)
            position += 1
            guard position < bytes.count else { throw error("unterminated escape") }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    // A high surrogate: the low one must follow.
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                        throw error("a lone high surrogate in a \\u escape")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("a high surrogate not followed by a low one") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("\\u escape of a lone low surrogate") }
                scalars.append(scalar)
            default:
                throw error("unknown escape \\\(Character(Unicode.Scalar(escape)))")
            }
            runStart = position
        }
    }

    /// Four hexadecimal digits.
    private mutating func hex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[position..<(position + 4)] {
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("a \\u escape needs four hexadecimal digits")
            }
            value = value << 4 | digit
        }
        position += 4
        return value
    }

    /// Skips any JSON value (objects and arrays to `maximumDepth` levels).
    private mutating func skipValue(depth: Int) throws {
        guard depth <= Self.maximumDepth else { throw error("values nested deeper than \(Self.maximumDepth) levels") }
        guard let byte = peek() else { throw error("a value is missing") }
        switch byte {
        case UInt8(ascii: "\""):
            _ = try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            position += 1
            skipSpace()
            if peek() == close { position += 1; return }
            while true {
                skipSpace()
                if close == UInt8(ascii: "}") {
                    _ = try string()
                    skipSpace()
                    try expect(UInt8(ascii: ":"), "expected ':' in an object")
                    skipSpace()
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect(close, "expected ',' or '\(Character(Unicode.Scalar(close)))'")
                return
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default:
            // A number: sign, digits, fraction, exponent.
            let start = position
            while let next = peek(), "-+.eE0123456789".utf8.contains(next) { position += 1 }
            guard position > start, Double(String(decoding: bytes[start..<position], as: UTF8.self)) != nil else {
                throw error("unexpected character '\(Character(Unicode.Scalar(byte)))'")
            }
        }
    }

    private mutating func literal(_ word: String) throws {
        let expected = Array(word.utf8)
        guard position + expected.count <= bytes.count, Array(bytes[position..<(position + expected.count)]) == expected else {
            throw error("unexpected character '\(Character(Unicode.Scalar(bytes[position])))'")
        }
        position += expected.count
    }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws {
        guard peek() == byte else { throw error(message) }
        position += 1
    }

    private func error(_ message: String) -> CheckpointError {
        CheckpointError("the header is not valid JSON: \(message) at byte \(position) of the header")
    }
}
