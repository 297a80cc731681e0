/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64): the same seed gives the
/// same sequence on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a generator from a seed.
    public init(seed: UInt64) {
        var z = seed
        func splitMix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform value in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A standard normal value (Marsaglia's polar method).
    public mutating func nextNormal() -> Double {
        while true {
            let u = 2 * nextUnit() - 1, v = 2 * nextUnit() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * Double.log(s) / s).squareRoot() }
        }
    }
}

extension Tensor {
    /// Values drawn from a normal distribution, reproducibly from `seed`.
    public static func randomNormal(
        shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, seed: UInt64
    ) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return randomNormal(shape: shape, mean: mean, standardDeviation: standardDeviation, using: &generator)
    }

    /// Values drawn from a normal distribution using `generator`.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public static func randomNormal(
        shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, using generator: inout SeededGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        let values = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer.initializeElement(at: i, to: mean + standardDeviation * Scalar(generator.nextNormal())) }
            initialized = count
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Values drawn uniformly from [lowerBound, upperBound), reproducibly from `seed`.
    public static func randomUniform(
        shape: [Int], lowerBound: Scalar = 0, upperBound: Scalar = 1, seed: UInt64
    ) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return randomUniform(shape: shape, lowerBound: lowerBound, upperBound: upperBound, using: &generator)
    }

    /// Values drawn uniformly from [lowerBound, upperBound) using `generator`.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public static func randomUniform(
        shape: [Int], lowerBound: Scalar = 0, upperBound: Scalar = 1, using generator: inout SeededGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        let width = upperBound - lowerBound
        let values = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer.initializeElement(at: i, to: lowerBound + width * Scalar(generator.nextUnit())) }
            initialized = count
        }
        return Tensor(shape: shape, scalars: values)
    }
}

/// A stream of random numbers shared by reference: every draw advances it, wherever it happens. Stochastic
/// layers draw from one (through `ForwardContext`), and a compiled function that draws from one draws fresh
/// numbers from it on every call, as the uncompiled function would.
public final class RandomStream: @unchecked Sendable {
    private var state: SeededGenerator
    private let lock = DeferredValueLock()

    /// Creates a stream from a seed.
    public init(seed: UInt64) { state = SeededGenerator(seed: seed) }

    /// The generator's current state (reading it does not advance the stream).
    public var generator: SeededGenerator {
        get { lock.withLock { state } }
        set { lock.withLock { state = newValue } }
    }

    /// Calls `body` with the generator, advancing the stream by what it draws.
    public func draw<R>(_ body: (inout SeededGenerator) -> R) -> R {
        lock.withLock { body(&state) }
    }
}

extension Tensor {
    /// A mask for inverted dropout drawn from `stream`: each element is `scale` where a uniform draw in [0, 1)
    /// is at least `dropProbability`, else 0 (one draw per element, in row-major order).
    ///
    /// Inside a compiled function the draw is a node of the program, made again on every call.
    public static func dropoutMask(
        shape: [Int], dropProbability: Double, scale: Scalar, using stream: RandomStream
    ) -> Tensor {
        let trace = Trace<Scalar>.current
        trace?.noteDraw(from: stream)
        let mask = drawnDropoutMask(shape: shape, dropProbability: dropProbability, scale: scale, stream: stream)
        guard let trace else { return mask }
        return trace.append(.opaque("dropoutMask"), inputs: [], output: mask) { _ in
            drawnDropoutMask(shape: shape, dropProbability: dropProbability, scale: scale, stream: stream)
        }
    }

    private static func drawnDropoutMask(
        shape: [Int], dropProbability: Double, scale: Scalar, stream: RandomStream
    ) -> Tensor {
        let count = shape.reduce(1, *)
        let values = stream.draw { generator in
            (0..<count).map { _ in generator.nextUnit() >= dropProbability ? scale : 0 }
        }
        return Tensor(shape: shape, buffer: values)
    }
}
