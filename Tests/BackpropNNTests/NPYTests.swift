import Foundation
import Testing
@testable import BackpropNN

@Suite struct NPYTests {
    @Test func readsFilesWrittenByNumPy() throws {
        let f4 = try Tensor<Float>(npyAt: fixture("npy/f4.npy"))
        #expect(f4.shape == [2, 3] && f4.scalars == [0, 0.25, 0.5, 0.75, 1, 1.25])
        let f8 = try Tensor<Double>(npyAt: fixture("npy/f8.npy"))
        #expect(f8.shape == [2, 3, 4])
        #expect(f8.scalars.first == -1 && f8.scalars.last == 1)
        #expect(try NPYArray.read(from: fixture("npy/i8.npy")).integers() == [-5, 0, 1 << 40])
        let i4 = try NPYArray.read(from: fixture("npy/i4.npy"))
        #expect(i4.shape == [2, 2] && i4.integers() == [1, -2, 3, -4])
        #expect(try NPYArray.read(from: fixture("npy/u1.npy")).integers() == [0, 128, 255])
        #expect(try NPYArray.read(from: fixture("npy/b1.npy")).integers() == [1, 0, 1])
        #expect(try Tensor<Double>(npyAt: fixture("npy/f8-big-endian.npy")).scalars == [1.5, -2])
        let scalar = try Tensor<Double>(npyAt: fixture("npy/scalar.npy"))
        #expect(scalar.shape == [] && scalar.scalar == 3.25)
        let v2 = try NPYArray.read(from: fixture("npy/v2.npy"))
        #expect(v2.tensor(as: Float.self).scalars == [0, 1, 2, 3])
    }

    @Test func rejectsFortranOrderClearly() {
        do {
            _ = try Tensor<Double>(npyAt: fixture("npy/fortran.npy"))
            Issue.record("expected an error")
        } catch let error as DataError {
            #expect(error.kind == .unsupported)
            #expect(error.description.contains("Fortran"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func roundTripsFloatAndDouble() throws {
        let directory = try temporaryDirectory()
        let floats = Tensor<Float>(shape: [2, 3], scalars: [1, -2.5, 3, 4, 5, .pi])
        try floats.writeNPY(to: directory.appendingPathComponent("f.npy"))
        #expect(try Tensor<Float>(npyAt: directory.appendingPathComponent("f.npy")) == floats)
        let doubles = Tensor<Double>([0.1, 0.2, 0.3])
        try doubles.writeNPY(to: directory.appendingPathComponent("d.npy"))
        #expect(try Tensor<Double>(npyAt: directory.appendingPathComponent("d.npy")) == doubles)
        try NPYArray.write(integers: [3, -1, 1 << 40, 0], shape: [2, 2], to: directory.appendingPathComponent("i.npy"))
        let integers = try NPYArray.read(from: directory.appendingPathComponent("i.npy"))
        #expect(integers.descr == "<i8" && integers.shape == [2, 2] && integers.integers() == [3, -1, 1 << 40, 0])
        let raw = try bytes(of: directory.appendingPathComponent("d.npy"))
        #expect((raw.count - 24) % 64 == 0)  // header padded to a multiple of 64
    }

    @Test func neverCrashesOnTruncatedOrFlippedFiles() throws {
        let data = try bytes(of: fixture("npy/f8.npy"))
        for length in 0..<data.count {
            #expect(throws: DataError.self) { try NPYArray(bytes: Array(data[..<length])) }
        }
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            var damaged = data
            let index = uniformIndex(below: 128, using: &generator)  // the header
            damaged[index] = UInt8(truncatingIfNeeded: generator.next())
            _ = try? NPYArray(bytes: damaged)
        }
    }
}
