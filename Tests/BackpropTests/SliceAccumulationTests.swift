@testable import Backprop
import Foundation
import Testing

/// The first-order sweep adds a slice's cotangent into the sub-range of its input's gradient, and adds the
/// cotangents of a value used several times into one buffer (issue #20, item 5): the same numbers as padding
/// each slice's cotangent with zeros and summing new tensors, which recorded sweeps and traces still do.
/// The reference takes the same elements with `gathering`, whose pullback scatters, so it shares no code
/// with the slice's.
@Suite struct SliceAccumulationTests {
    let x = Tensor<Double>(shape: [4, 6], scalars: (0..<24).map { Foundation.sin(Double($0) * 0.7) })
    let v = Tensor<Double>(shape: [4, 6], scalars: (0..<24).map { Foundation.cos(Double($0) * 0.3) })

    typealias Take = (Tensor<Double>, Range<Int>, Int) -> Tensor<Double>

    /// Overlapping slices along both axes, slices of slices, a row by subscript-like slicing, and the whole
    /// tensor used directly as well.
    func f(_ x: Tensor<Double>, _ take: Take) -> Tensor<Double> {
        let a = take(x, 0..<3, 0)                      // rows 0-2
        let b = take(x, 1..<4, 0)                      // rows 1-3: overlaps a
        let c = take(x, 2..<5, 1)                      // columns 2-4
        let d = take(take(x, 1..<6, 1), 1..<3, 1)      // columns 2-3: a slice of a slice
        let e = take(take(x, 1..<3, 0), 0..<1, 0)      // row 1, again
        let whole = take(x, 0..<4, 0)                  // the full range
        return (a * a * b).sum() + (sin(c) * c).sum() + (d * d * d).sum() + (exp(e) * 0.5).sum()
            + (a * 2).sum() + (x * x).sum() + (whole * 3).sum()
    }

    let sliced: Take = { $0.slicing($1, alongAxis: $2) }
    let gathered: Take = { $0.gathering(atIndices: Array($1), alongAxis: $2) }

    func maxDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        #expect(a.shape == b.shape)
        return zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? .infinity
    }

    @Test func gradientThroughSlicesEqualsTheGatheredOne() {
        let g = gradient(at: x) { f($0, sliced) }
        let expected = gradient(at: x) { f($0, gathered) }
        #expect(maxDifference(g, expected) < 1e-12)
        #expect(maxDifference(g, Tensor.zeros(shape: x.shape)) > 0.1)
    }

    @Test func slicesOfAMatrixProductAndOfAnInputUsedTwice() {
        // The slices' input is an intermediate tensor (a product), whose gradient the sweep builds from the
        // slices alone, and the weights are sliced along the second axis as the LSTM's gates are.
        let w = Tensor<Double>(shape: [6, 8], scalars: (0..<48).map { Foundation.sin(Double($0) * 0.37) })
        func g(_ take: Take) -> [Tensor<Double>] {
            gradient(at: [x, w]) { p in
                let h = matmul(p[0], p[1])
                let gates = (0..<4).map { k in sigmoid(take(h, (2 * k)..<(2 * k + 2), 1) + take(p[1], 0..<4, 0)[0..<1].reshaped(to: [8])[(2 * k)..<(2 * k + 2)]) }
                return (gates[0] * gates[1] + gates[2] * tanh(gates[3])).sum()
            }
        }
        let got = g(sliced), expected = g(gathered)
        for (a, b) in zip(got, expected) { #expect(maxDifference(a, b) < 1e-12) }
    }

    @Test func secondOrderThroughSlicesEqualsTheGatheredOne() {
        let hv = hessianVectorProduct(at: x, along: v) { f($0, sliced) }
        let expected = hessianVectorProduct(at: x, along: v) { f($0, gathered) }
        #expect(maxDifference(hv, expected) < 1e-12)
        // Reverse over reverse: the gradient of a gradient's component sum.
        let gg = gradient(at: x) { x in gradient(at: x) { f($0, sliced) }.sum() }
        let ggExpected = gradient(at: x) { x in gradient(at: x) { f($0, gathered) }.sum() }
        #expect(maxDifference(gg, ggExpected) < 1e-12)
    }

    @Test func forwardModeThroughSlicesEqualsTheGatheredOne() {
        let (_, t) = valueWithJVP(at: x, along: v) { f($0, sliced) }
        let (_, expected) = valueWithJVP(at: x, along: v) { f($0, gathered) }
        #expect(Swift.abs(t.scalar - expected.scalar) < 1e-12)
    }

    @Test func accumulatingInPlaceLeavesTheCallersSeedAlone() {
        // The seed reaches both uses of x unchanged, so the first use's gradient is the caller's tensor: the
        // second must be added into a copy, not into the caller's values.
        let seed = Tensor<Double>(shape: [4, 6], scalars: (0..<24).map { Double($0) })
        let kept = seed.scalars
        let (_, pullback) = valueWithPullback(at: x) { x in x + x.slicing(0..<4) + x }
        let g = pullback(seed)
        #expect(seed.scalars == kept)
        #expect(g.scalars == kept.map { 3 * $0 })
    }

    @Test func leavesThatRequireAGradientReceiveTheSlicesSum() {
        let leaf = x.requiringGradient()
        let y = f(leaf, sliced)
        y.backward()
        let expected = gradient(at: x) { f($0, gathered) }
        #expect(maxDifference(leaf.grad!, expected) < 1e-12)
    }
}
