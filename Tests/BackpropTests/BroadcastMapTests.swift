@testable import Backprop
import Testing

/// Binary primitives and comparisons with broadcasting, against the definition written out index by index, on
/// tensors large enough to split across threads: long runs, runs too short to loop over (every position
/// walked, the threads' shares starting mid-row), and one-element operands.
@Suite struct BroadcastMapTests {
    /// f(a, b) at every position of the broadcast shape, each operand read at its index (1-sized axes at 0).
    func reference(_ a: Tensor<Double>, _ b: Tensor<Double>, _ f: (Double, Double) -> Double) -> [Double] {
        let rank = Swift.max(a.rank, b.rank)
        let shapeA = [Int](repeating: 1, count: rank - a.rank) + a.shape
        let shapeB = [Int](repeating: 1, count: rank - b.rank) + b.shape
        let shape = zip(shapeA, shapeB).map { Swift.max($0, $1) }
        let (va, vb) = (a.scalars, b.scalars)
        func offset(_ index: [Int], _ s: [Int]) -> Int {
            var o = 0
            for axis in 0..<rank { o = o * s[axis] + (s[axis] == 1 ? 0 : index[axis]) }
            return o
        }
        var out: [Double] = []
        out.reserveCapacity(shape.reduce(1, *))
        var index = [Int](repeating: 0, count: rank)
        for _ in 0..<shape.reduce(1, *) {
            out.append(f(va[offset(index, shapeA)], vb[offset(index, shapeB)]))
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    @Test func largeBroadcastsMatchTheDefinition() {
        let cases: [([Int], [Int])] = [
            ([131, 1, 7], [1, 73, 1]),    // 66 941 values in runs of 7: every position walked, shares start mid-row
            ([170, 400], [170, 1]),       // runs of 400 with b fixed along them
            ([1, 100, 64], [11, 1, 64]),  // broadcast-f64's pattern
            ([70_000], [1]), ([1], [70_000]), ([3, 5], [3, 5]),
        ]
        for (k, (sa, sb)) in cases.enumerated() {
            let a = Tensor<Double>.randomNormal(shape: sa, seed: UInt64(2 * k + 1))
            let b = Tensor<Double>.randomNormal(shape: sb, seed: UInt64(2 * k + 2)) + 0.5
            #expect((a - b).scalars == reference(a, b, -), "\(sa) - \(sb)")
            #expect((a * b).scalars == reference(a, b, *), "\(sa) * \(sb)")
            #expect((a / b).scalars == reference(a, b, /), "\(sa) / \(sb)")
            #expect((a .< b).scalars == reference(a, b) { $0 < $1 ? 1 : 0 }, "\(sa) .< \(sb)")
        }
    }

    @Test func largeBroadcastGradientsMatchTheExplicitlyBroadcastOnes() {
        // The pullbacks of * and / over broadcast operands (one loop over the output's positions, split across
        // threads) against the same functions of operands broadcast beforehand (no broadcasting inside).
        for (sa, sb) in [([131, 1, 7], [1, 73, 1]), ([170, 400], [170, 1])] as [([Int], [Int])] {
            let a = Tensor<Double>.randomNormal(shape: sa, seed: 5), b = Tensor<Double>.randomNormal(shape: sb, seed: 6) + 3
            let shape = (a * b).shape
            let (ga, gb) = gradient(at: a, b) { a, b in (a * b / (b + a)).sum() }
            let (wa, wb) = gradient(at: a.broadcasted(to: shape), b.broadcasted(to: shape)) { a, b in (a * b / (b + a)).sum() }
            let (ea, eb) = (wa.summed(toShape: sa), wb.summed(toShape: sb))
            #expect(zip(ga.scalars, ea.scalars).allSatisfy { Swift.abs($0 - $1) <= 1e-12 * Swift.max(1, Swift.abs($1)) }, "\(sa)")
            #expect(zip(gb.scalars, eb.scalars).allSatisfy { Swift.abs($0 - $1) <= 1e-12 * Swift.max(1, Swift.abs($1)) }, "\(sb)")
        }
    }
}
