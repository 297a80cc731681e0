/// A DEFLATE (RFC 1951) decompressor in pure Swift: stored, fixed-Huffman and dynamic-Huffman blocks.
///
/// Every malformed input — truncation, invalid or over-subscribed codes, distances reaching before
/// the start of the output — throws a `DataError` of kind `.corrupt`; none traps.
public enum Inflate {
    /// Decompresses a raw DEFLATE stream starting at `bytes[start]`.
    ///
    /// - Parameters:
    ///   - bytes: the compressed data.
    ///   - start: where the stream starts.
    ///   - maximumOutputCount: refuse to produce more than this many bytes (a guard against
    ///     decompression bombs).
    /// - Returns: the decompressed bytes and the index just past the last byte of the stream.
    public static func inflate(
        _ bytes: [UInt8], from start: Int = 0, maximumOutputCount: Int = Int.max
    ) throws -> (output: [UInt8], end: Int) {
        do {
            return try decode(bytes, from: start, limit: maximumOutputCount)
        } catch let reached as LimitReached {
            throw corrupt("output exceeds \(reached.limit) bytes")
        }
    }

    /// The first `count` bytes of the decompressed stream starting at `bytes[start]` (all of it when it
    /// is shorter), decoding no further than needed: for reading a header without decompressing the rest.
    public static func inflatedPrefix(_ bytes: [UInt8], from start: Int = 0, count: Int) throws -> [UInt8] {
        // Decoding stops before a symbol that would pass the limit, so allow one more stored block
        // (65 535 bytes) or match (258) past `count`, then cut.
        let (limit, overflow) = count.addingReportingOverflow(65_535 + 258)
        do {
            return Array(try decode(bytes, from: start, limit: overflow ? Int.max : limit).output.prefix(count))
        } catch let reached as LimitReached {
            return Array(reached.output.bytes().prefix(count))
        }
    }

    /// Decodes blocks until the last one, or until the next symbol would take the output past `limit`
    /// (then throws `LimitReached` with the output so far).
    private static func decode(_ bytes: [UInt8], from start: Int, limit: Int) throws -> (output: [UInt8], end: Int) {
        var reader = BitReader(bytes: bytes, position: start)
        // The buffer starts from the compressed size, never from a size the data claims.
        let output = InflateOutput(capacity: Swift.min(limit, Swift.max(1024, (bytes.count - start) * 4)))
        var isLast = false
        while !isLast {
            isLast = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0: try storedBlock(&reader, into: output, limit: limit)
            case 1: try huffmanBlock(&reader, into: output, codes: fixedCodes, limit: limit)
            case 2: try huffmanBlock(&reader, into: output, codes: try dynamicCodes(&reader), limit: limit)
            default: throw corrupt("invalid block type 3")
            }
        }
        return (output.bytes(), reader.bytePositionAfterAligning())
    }

    /// Decoding stopped because the output would pass its limit. (Errors must be Sendable; this one holds
    /// the mutable output buffer, but never leaves this file: both callers of `decode` catch it on the
    /// thread that threw it.)
    private struct LimitReached: Error, @unchecked Sendable {
        let output: InflateOutput
        let limit: Int
    }

    static func corrupt(_ message: String) -> DataError { DataError(.corrupt, "deflate data: \(message)") }

    private static func storedBlock(_ reader: inout BitReader, into output: InflateOutput, limit: Int) throws {
        let position = reader.bytePositionAfterAligning()
        reader = BitReader(bytes: reader.bytes, position: position)
        guard position + 4 <= reader.bytes.count else { throw corrupt("truncated stored block header") }
        let length = Int(reader.bytes[position]) | Int(reader.bytes[position + 1]) << 8
        let complement = Int(reader.bytes[position + 2]) | Int(reader.bytes[position + 3]) << 8
        guard length == ~complement & 0xFFFF else { throw corrupt("stored block length does not match its complement") }
        let dataStart = position + 4
        guard dataStart + length <= reader.bytes.count else { throw corrupt("truncated stored block") }
        guard output.count + length <= limit else { throw LimitReached(output: output, limit: limit) }
        reader.bytes.withUnsafeBufferPointer { output.append($0, from: dataStart, count: length) }
        reader = BitReader(bytes: reader.bytes, position: dataStart + length)
    }

    private static let lengthBase: [Int] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    private static let lengthExtra: [Int] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    private static let distanceBase: [Int] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra: [Int] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]

    /// The fixed literal/length and distance codes of block type 1.
    private static let fixedCodes: (literals: HuffmanTable, distances: HuffmanTable) = {
        var lengths = [Int](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        // The fixed codes are complete by construction, so building them cannot fail.
        let literals = (try? HuffmanTable(lengths: lengths)) ?? HuffmanTable.empty
        let distances = (try? HuffmanTable(lengths: [Int](repeating: 5, count: 30))) ?? HuffmanTable.empty
        return (literals, distances)
    }()

    /// The order in which code-length code lengths are stored.
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private static func dynamicCodes(_ reader: inout BitReader) throws -> (literals: HuffmanTable, distances: HuffmanTable) {
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeLengthCount = try reader.bits(4) + 4
        guard literalCount <= 286 else { throw corrupt("\(literalCount) literal/length codes (at most 286)") }
        guard distanceCount <= 30 else { throw corrupt("\(distanceCount) distance codes (at most 30)") }
        var codeLengthLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { codeLengthLengths[codeLengthOrder[i]] = try reader.bits(3) }
        let codeLengthCode = try HuffmanTable(lengths: codeLengthLengths)
        guard codeLengthCode.isComplete else { throw corrupt("incomplete code-length code") }

        var lengths = [Int]()
        lengths.reserveCapacity(literalCount + distanceCount)
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeLengthCode.decode(&reader)
            var repeated = 0, value = 0
            switch symbol {
            case 0...15:
                lengths.append(symbol)
                continue
            case 16:
                guard let previous = lengths.last else { throw corrupt("repeat of a code length with no previous length") }
                value = previous
                repeated = 3 + (try reader.bits(2))
            case 17: repeated = 3 + (try reader.bits(3))
            default: repeated = 11 + (try reader.bits(7))
            }
            guard lengths.count + repeated <= literalCount + distanceCount else {
                throw corrupt("code-length repeat runs past the end of the code lengths")
            }
            lengths.append(contentsOf: repeatElement(value, count: repeated))
        }
        guard lengths[256] > 0 else { throw corrupt("no end-of-block code") }
        let literals = try HuffmanTable(lengths: Array(lengths[..<literalCount]))
        guard literals.isComplete || literals.hasSingleCode else { throw corrupt("incomplete literal/length code") }
        let distances = try HuffmanTable(lengths: Array(lengths[literalCount...]))
        guard distances.isComplete || distances.hasSingleCode || distances.isUnused else {
            throw corrupt("incomplete distance code")
        }
        return (literals, distances)
    }

    private static func huffmanBlock(
        _ reader: inout BitReader, into output: InflateOutput, codes: (literals: HuffmanTable, distances: HuffmanTable),
        limit: Int
    ) throws {
        while true {
            let symbol = try codes.literals.decode(&reader)
            if symbol < 256 {
                guard output.count < limit else { throw LimitReached(output: output, limit: limit) }
                output.append(UInt8(truncatingIfNeeded: symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < 29 else { throw corrupt("invalid length symbol \(symbol)") }
            let length = lengthBase[lengthIndex] + (try reader.bits(lengthExtra[lengthIndex]))
            let distanceSymbol = try codes.distances.decode(&reader)
            guard distanceSymbol < 30 else { throw corrupt("invalid distance symbol \(distanceSymbol)") }
            let distance = distanceBase[distanceSymbol] + (try reader.bits(distanceExtra[distanceSymbol]))
            guard distance <= output.count else {
                throw corrupt("distance \(distance) reaches before the start of the output (\(output.count) bytes)")
            }
            guard output.count + length <= limit else { throw LimitReached(output: output, limit: limit) }
            output.copyBack(distance: distance, length: length)
        }
    }
}

/// Reads bits least-significant first from a byte array, as DEFLATE stores them.
struct BitReader {
    let bytes: [UInt8]
    /// The next byte to load into `buffer`.
    private(set) var position: Int
    private var buffer: UInt64 = 0
    private var count = 0

    init(bytes: [UInt8], position: Int) {
        self.bytes = bytes
        self.position = position
    }

    private mutating func refill() {
        while count <= 56 && position < bytes.count {
            buffer |= UInt64(bytes[position]) << UInt64(count)
            position += 1
            count += 8
        }
    }

    /// The next `n` bits (n ≤ 32) without consuming them, zero-padded past the end of the data.
    mutating func peek(_ n: Int) -> Int {
        if count < n { refill() }
        return Int(buffer & ((1 << UInt64(n)) - 1))
    }

    /// Consumes `n` bits.
    mutating func consume(_ n: Int) throws {
        if count < n { refill() }
        guard count >= n else { throw Inflate.corrupt("unexpected end of data") }
        buffer >>= UInt64(n)
        count -= n
    }

    /// Reads an `n`-bit number (n ≤ 32).
    mutating func bits(_ n: Int) throws -> Int {
        guard n > 0 else { return 0 }
        let value = peek(n)
        try consume(n)
        return value
    }

    /// The index of the first byte not yet (partially) consumed, after discarding bits up to a byte boundary.
    func bytePositionAfterAligning() -> Int { position - count / 8 }
}

/// A canonical Huffman code decoded by one table lookup on the next `maxLength` bits.
struct HuffmanTable {
    /// Indexed by the next `maxLength` input bits: `symbol << 4 | codeLength`, 0 for no code.
    private var table: [UInt32]
    private var maxLength: Int
    /// Whether the code lengths use up the whole code space.
    private(set) var isComplete: Bool
    /// Whether exactly one symbol has a code (of length 1), which DEFLATE allows to be incomplete.
    private(set) var hasSingleCode: Bool
    /// Whether no symbol has a code.
    private(set) var isUnused: Bool

    static let empty = HuffmanTable(table: [0, 0], maxLength: 1)

    private init(table: [UInt32], maxLength: Int) {
        self.table = table
        self.maxLength = maxLength
        isComplete = false
        hasSingleCode = false
        isUnused = true
    }

    /// Builds the code for the given code lengths (0 = symbol unused), rejecting over-subscribed codes.
    init(lengths: [Int]) throws {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths {
            guard length >= 0 && length <= 15 else { throw Inflate.corrupt("code length \(length) out of range") }
            counts[length] += 1
        }
        var left = 1
        for length in 1...15 {
            left <<= 1
            left -= counts[length]
            guard left >= 0 else { throw Inflate.corrupt("over-subscribed Huffman code") }
        }
        let used = lengths.count - counts[0]
        isComplete = left == 0
        hasSingleCode = used == 1 && counts[1] == 1
        isUnused = used == 0
        maxLength = Swift.max(1, lengths.max() ?? 1)
        table = [UInt32](repeating: 0, count: 1 << maxLength)
        var nextCode = [Int](repeating: 0, count: 16)
        var code = 0
        for length in 1...15 {
            code = (code + counts[length - 1] * (length == 1 ? 0 : 1)) << 1
            nextCode[length] = code
        }
        for (symbol, length) in lengths.enumerated() where length > 0 {
            let canonical = nextCode[length]
            nextCode[length] += 1
            var reversed = 0
            for bit in 0..<length where canonical & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
            let entry = UInt32(symbol << 4 | length)
            var slot = reversed
            while slot < table.count {
                table[slot] = entry
                slot += 1 << length
            }
        }
    }

    /// Decodes one symbol.
    func decode(_ reader: inout BitReader) throws -> Int {
        let entry = table[reader.peek(maxLength)]
        let length = Int(entry & 15)
        guard length > 0 else { throw Inflate.corrupt("invalid Huffman code") }
        try reader.consume(length)
        return Int(entry >> 4)
    }
}

/// The growing output of `Inflate`: a manually managed byte buffer, so appending literals and copying
/// back-references are plain memory operations (fast even in debug builds) and never copy the whole
/// output.
private final class InflateOutput {
    private var pointer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// The number of bytes produced.
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 16)
        pointer = .allocate(capacity: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `extra` more bytes.
    private func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let newCapacity = Swift.max(capacity * 2, count + extra)
        let newPointer = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newPointer.update(from: pointer, count: count)
        pointer.deallocate()
        pointer = newPointer
        capacity = newCapacity
    }

    /// Appends one byte.
    func append(_ byte: UInt8) {
        if count == capacity { reserve(1) }
        pointer[count] = byte
        count += 1
    }

    /// Appends `length` bytes of `source` starting at `start` (already bounds-checked by the caller).
    func append(_ source: UnsafeBufferPointer<UInt8>, from start: Int, count length: Int) {
        guard length > 0, let base = source.baseAddress else { return }
        reserve(length)
        (pointer + count).update(from: base + start, count: length)
        count += length
    }

    /// Appends `length` bytes copied from `distance` bytes back (1 ≤ distance ≤ count). When the
    /// source overlaps the destination the last `distance` bytes repeat, as DEFLATE requires; the copy
    /// proceeds in non-overlapping chunks that double in size.
    func copyBack(distance: Int, length: Int) {
        reserve(length)
        let source = pointer + (count - distance)
        var copied = 0
        while copied < length {
            let chunk = Swift.min(length - copied, distance + copied)
            (pointer + count + copied).update(from: source, count: chunk)
            copied += chunk
        }
        count += length
    }

    /// The bytes produced.
    func bytes() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { base.initialize(from: pointer, count: count) }
            initialized = count
        }
    }
}
