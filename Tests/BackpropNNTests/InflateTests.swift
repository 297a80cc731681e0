import Foundation
import Testing
@testable import BackpropNN

@Suite struct InflateTests {
    static let compressedFixtures: [(compressed: String, original: String)] = {
        var cases: [(String, String)] = []
        for name in ["text", "noise", "short", "empty"] {
            for level in [0, 1, 9] { cases.append(("gzip/\(name).level\(level).gz", "gzip/\(name).bin")) }
        }
        cases.append(("gzip/text.system.gz", "gzip/text.bin"))
        cases.append(("gzip/two-members.gz", "gzip/two-members.bin"))
        return cases
    }()

    @Test(arguments: compressedFixtures.map(\.compressed))
    func decompressesFilesFromPythonAndSystemGzip(_ compressed: String) throws {
        let original = Self.compressedFixtures.first { $0.compressed == compressed }!.original
        let output = try Gzip.decompress(try bytes(of: fixture(compressed)))
        #expect(output == (try bytes(of: fixture(original))))
    }

    @Test func decompressesLongOverlappingMatchesInLinearTime() throws {
        // 1 MB of zeros is ~4000 overlapping length-258 matches; copying the output per match (a past
        // bug) made this take minutes instead of a fraction of a second.
        let output = try Gzip.decompress(try bytes(of: fixture("gzip/zeros.gz")))
        #expect(output.count == 1 << 20)
        #expect(output.allSatisfy { $0 == 0 })
    }

    @Test func crc32MatchesKnownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        let split = CRC32.checksum(Array("56789".utf8), continuing: CRC32.checksum(Array("1234".utf8)))
        #expect(split == 0xCBF4_3926)
    }

    @Test func detectsCorruptedChecksumAndSize() throws {
        var data = try bytes(of: fixture("gzip/text.level9.gz"))
        data[data.count - 6] ^= 0xFF  // inside the CRC-32
        #expect(throws: DataError.self) { try Gzip.decompress(data) }
        do { _ = try Gzip.decompress(data) } catch let error as DataError {
            #expect(error.kind == .corrupt)
            #expect(error.message.contains("CRC-32"))
        }
        var sized = try bytes(of: fixture("gzip/text.level9.gz"))
        sized[sized.count - 1] ^= 0x01  // inside ISIZE
        #expect(throws: DataError.self) { try Gzip.decompress(sized) }
    }

    @Test func rejectsTruncationAtEveryLength() throws {
        // Every length of a small file, and a sample of lengths (plus the last 40) of a larger one.
        let small = try bytes(of: fixture("gzip/two-members.gz"))
        for length in 0..<small.count where length != 33 {  // 33 bytes is exactly the first member
            #expect(throws: DataError.self) { try Gzip.decompress(Array(small[..<length])) }
        }
        let data = try bytes(of: fixture("gzip/text.level9.gz"))
        for length in Array(stride(from: 0, to: data.count, by: 211)) + Array((data.count - 40)..<data.count) {
            #expect(throws: DataError.self) { try Gzip.decompress(Array(data[..<length])) }
        }
    }

    @Test func neverCrashesOnFlippedBytes() throws {
        let data = try bytes(of: fixture("gzip/text.level9.gz"))
        var generator = SeededGenerator(seed: 2024)
        for _ in 0..<150 {
            var damaged = data
            for _ in 0..<3 {
                let index = uniformIndex(below: damaged.count, using: &generator)
                damaged[index] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            }
            // Either an error or (if the flips were in ignorable header bytes) the right output.
            if let output = try? Gzip.decompress(damaged, maximumOutputCount: 1 << 20) {
                #expect(output == (try bytes(of: fixture("gzip/text.bin"))))
            }
        }
        // Raw deflate garbage.
        for length in [1, 2, 5, 50, 500] {
            for _ in 0..<40 {
                let garbage = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                _ = try? Inflate.inflate(garbage, maximumOutputCount: 1 << 20)
            }
        }
    }

    @Test func rejectsNonGzipAndTrailingGarbage() throws {
        #expect(throws: DataError.self) { try Gzip.decompress(Array("plain text, not gzip at all".utf8)) }
        let data = try bytes(of: fixture("gzip/short.level9.gz"))
        #expect(throws: DataError.self) { try Gzip.decompress(data + Array("junk".utf8)) }
        #expect(try Gzip.decompress(data + [0, 0, 0, 0]) == Array("hello, deflate!".utf8))
    }

    @Test func enforcesOutputLimit() throws {
        let data = try bytes(of: fixture("gzip/text.level9.gz"))
        #expect(throws: DataError.self) { try Gzip.decompress(data, maximumOutputCount: 1000) }
    }

    @Test func inflatesHandBuiltStoredAndFixedBlocks() throws {
        // A final stored block holding "abc".
        let stored: [UInt8] = [0x01, 0x03, 0x00, 0xFC, 0xFF, 0x61, 0x62, 0x63]
        #expect(try Inflate.inflate(stored).output == Array("abc".utf8))
        // Bad stored-length complement.
        #expect(throws: DataError.self) { try Inflate.inflate([0x01, 0x03, 0x00, 0x00, 0x00, 0x61, 0x62, 0x63]) }
        // Block type 3 is invalid.
        #expect(throws: DataError.self) { try Inflate.inflate([0x07]) }
        // Fixed block: "a" then a back-reference of distance 1, length 3 → "aaaa" (zlib's output for "aaaa").
        #expect(try Inflate.inflate([0x4B, 0x4C, 0x4C, 0x4C, 0x04, 0x00]).output == Array("aaaa".utf8))
    }
}
