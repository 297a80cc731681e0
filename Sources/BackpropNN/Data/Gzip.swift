/// Reads gzip (RFC 1952) files with the pure-Swift `Inflate`, verifying each member's CRC-32 and size.
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number 1f 8b.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Decompresses gzip data; concatenated members are decompressed one after another, as `gzip -d` does.
    ///
    /// - Parameters:
    ///   - bytes: the compressed file's bytes.
    ///   - maximumOutputCount: refuse to produce more than this many bytes.
    /// - Throws: `DataError` of kind `.corrupt` for a bad header, corrupt deflate data, a CRC-32 or
    ///   size mismatch, truncation or trailing garbage.
    public static func decompress(_ bytes: [UInt8], maximumOutputCount: Int = Int.max) throws -> [UInt8] {
        var output: [UInt8] = []
        var position = 0
        repeat {
            position = try member(bytes, at: position, appendingTo: &output, limit: maximumOutputCount)
            // Some writers pad with zero bytes after the last member; anything else must be another member.
            if bytes[position...].allSatisfy({ $0 == 0 }) { break }
            guard isCompressed(Array(bytes[position..<Swift.min(position + 2, bytes.count)])) else {
                throw corrupt("unexpected data after the end of the compressed stream at byte \(position)")
            }
        } while position < bytes.count
        return output
    }

    /// The first `count` decompressed bytes of the first member (fewer if it is shorter), decoding no
    /// further: enough to read a header before deciding how much output to allow. The CRC is not checked.
    public static func decompressedPrefix(_ bytes: [UInt8], count: Int) throws -> [UInt8] {
        try Inflate.inflatedPrefix(bytes, from: try dataStart(of: bytes, member: 0), count: count)
    }

    static func corrupt(_ message: String) -> DataError { DataError(.corrupt, "gzip: \(message)") }

    /// Decompresses the member at `start`, returning the index just past it.
    private static func member(_ bytes: [UInt8], at start: Int, appendingTo output: inout [UInt8], limit: Int) throws -> Int {
        let position = try dataStart(of: bytes, member: start)
        let before = output.count
        let (data, end) = try Inflate.inflate(bytes, from: position, maximumOutputCount: limit - before)
        guard end + 8 <= bytes.count else { throw corrupt("truncated: missing the CRC-32 and size trailer") }
        func littleEndian32(_ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
        }
        let expectedCRC = littleEndian32(end), expectedSize = littleEndian32(end + 4)
        let actualCRC = CRC32.checksum(data)
        guard actualCRC == expectedCRC else {
            throw corrupt("CRC-32 mismatch (stored \(hex(expectedCRC)), computed \(hex(actualCRC))): the data is corrupt")
        }
        guard UInt32(truncatingIfNeeded: data.count) == expectedSize else {
            throw corrupt("size mismatch (stored \(expectedSize), decompressed \(data.count))")
        }
        output.append(contentsOf: data)
        return end + 8
    }

    /// Checks the header of the member at `start` and returns where its deflate data begins.
    private static func dataStart(of bytes: [UInt8], member start: Int) throws -> Int {
        guard bytes.count - start >= 18 else {
            throw start == 0 && bytes.isEmpty ? corrupt("empty data") : corrupt("truncated (\(bytes.count - start) bytes, a member needs at least 18)")
        }
        guard bytes[start] == 0x1F && bytes[start + 1] == 0x8B else { throw corrupt("not gzip data (bad magic number)") }
        guard bytes[start + 2] == 8 else { throw corrupt("unknown compression method \(bytes[start + 2])") }
        let flags = bytes[start + 3]
        guard flags & 0xE0 == 0 else { throw corrupt("reserved header flags set") }
        var position = start + 10
        if flags & 0x04 != 0 {  // FEXTRA
            guard position + 2 <= bytes.count else { throw corrupt("truncated extra field") }
            position += 2 + (Int(bytes[position]) | Int(bytes[position + 1]) << 8)
        }
        for flag in [UInt8(0x08), 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated
            while position < bytes.count && bytes[position] != 0 { position += 1 }
            position += 1
        }
        if flags & 0x02 != 0 { position += 2 }  // FHCRC
        guard position < bytes.count else { throw corrupt("truncated header") }
        return position
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
