import Foundation
import Testing
@testable import BackpropNN

@Suite struct IDXTests {
    private let expectedPixels: [Int] = (0..<60).map { $0 * 4 % 256 }

    @Test func loadsGzippedMNISTTrainPart() throws {
        let train = try Dataset<Float>(mnistDirectory: fixture("mnist"), part: .train)
        #expect(train.count == 5 && train.featureCount == 12)
        #expect(train.labels == [7, 2, 1, 0, 4])
        let expected = expectedPixels.map { Float($0) / 255 }
        #expect(zip(train.features.scalars, expected).allSatisfy { abs($0 - $1) < 1e-7 })
    }

    @Test func loadsPlainMNISTTestPart() throws {
        let test = try Dataset<Double>(mnistDirectory: fixture("mnist"), part: .test)
        #expect(test.count == 3 && test.labels == [7, 2, 1])
        #expect(test.features.scalars[1] == 4.0 / 255)
    }

    @Test func readsOtherElementTypes() throws {
        let doubles = try IDXArray.read(from: fixture("idx/float64.idx"))
        #expect(doubles.elementType == .float64 && doubles.shape == [2, 2])
        #expect(doubles.tensor(as: Double.self).scalars == [1.5, -2.25, 3.0, 1e-3])
        #expect(doubles.integers() == nil)
        let shorts = try IDXArray.read(from: fixture("idx/int16.idx"))
        #expect(shorts.integers() == [-300, 5, 32767])
    }

    @Test func reportsMissingDirectoryFiles() throws {
        let empty = try temporaryDirectory()
        do {
            _ = try Dataset<Float>(mnistDirectory: empty, part: .train)
            Issue.record("expected an error")
        } catch let error as DataError {
            #expect(error.kind == .fileNotFound)
            #expect(error.description.contains("train-images-idx3-ubyte"))
        }
    }

    @Test func rejectsMalformedHeadersAndSizes() {
        func kind(_ bytes: [UInt8]) -> DataError.Kind? {
            do { _ = try IDXArray(bytes: bytes); return nil } catch let error as DataError { return error.kind } catch { return nil }
        }
        #expect(kind([]) == .empty)
        #expect(kind([1, 2, 3, 4]) == .corrupt)
        #expect(kind([0, 0, 0x07, 1, 0, 0, 0, 1, 5]) == .unsupported)
        #expect(kind([0, 0, 0x08, 2, 0, 0, 0]) == .corrupt)
        #expect(kind([0, 0, 0x08, 1, 0, 0, 0, 3, 1, 2]) == .corrupt)  // 3 values declared, 2 present
        #expect(kind([0, 0, 0x0E, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == .corrupt)
        #expect(kind([0, 0, 0x08, 1, 0, 0, 0, 2, 9, 8]) == nil)
    }

    @Test func neverCrashesOnTruncatedOrFlippedFiles() throws {
        let data = try bytes(of: fixture("mnist/train-images-idx3-ubyte.gz"))
        for length in 0..<data.count { _ = try? IDXArray(bytes: Array(data[..<length])) }
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<200 {
            var damaged = data
            damaged[uniformIndex(below: damaged.count, using: &generator)] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            _ = try? IDXArray(bytes: damaged)
        }
    }
}

/// A compressed IDX file whose stream holds far more than its header declares stops at the declared size.
@Suite struct IDXBombTests {
    @Test func decompressionStopsAtTheDeclaredSize() throws {
        // 20 kB of gzip whose header promises 10 images of 28×28 (7 856 bytes) and inflates to 20 MB.
        let url = fixture("idx/bomb-images-idx3-ubyte.gz")
        do {
            _ = try IDXArray.read(from: url)
            Issue.record("a stream larger than its header declares was accepted")
        } catch let error as DataError {
            #expect(error.message.contains("IDX size mismatch"), "\(error.message)")
            #expect(error.message.contains("7856 bytes"), "\(error.message)")
        }
        // The header alone is read from a prefix, without inflating the rest.
        let prefix = try Gzip.decompressedPrefix(try bytes(of: url), count: 16)
        #expect(prefix == [0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28])
    }

    @Test func wellFormedFilesStillRead() throws {
        let images = try IDXArray.read(from: fixture("mnist/train-images-idx3-ubyte.gz"))
        #expect(images.shape.count == 3)
    }
}
