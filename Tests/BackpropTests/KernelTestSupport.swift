@testable import Backprop
import Foundation

/// Serialises tests that switch the kernels between their AVX-512, AVX2 and portable paths, so each runs on the
/// path it names even though Swift Testing runs tests in parallel.
private let kernelPathLock = NSLock()

/// The kernel paths this machine can test: AVX-512 and AVX2 where supported, and portable.
let testableKernelPaths: [KernelPath] = KernelPath.allCases.filter(\.isSupported)

/// Runs `body` with the kernels on `path`, then restores the previous path.
func withKernelPath<R>(_ path: KernelPath, _ body: () throws -> R) rethrows -> R {
    kernelPathLock.lock()
    let previous = kernelPathOverride
    defer {
        setKernelPath(previous)
        kernelPathLock.unlock()
    }
    setKernelPath(path)
    return try body()
}

/// A small deterministic generator (xorshift64*) so failures reproduce.
struct KernelTestRandom {
    private var state: UInt64

    /// A generator started from `seed` (any value; zero is replaced).
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    /// The next value, uniform in [-1, 1).
    mutating func next() -> Double {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        let bits = (state &* 0x2545_F491_4F6C_DD1D) >> 11
        return Double(bits) / Double(1 << 53) * 2 - 1
    }

    /// `count` values in [-1, 1) converted to `Scalar`.
    mutating func values<Scalar: TensorScalar>(_ count: Int, as _: Scalar.Type = Scalar.self) -> [Scalar] {
        (0..<count).map { _ in Scalar(next()) }
    }
}
