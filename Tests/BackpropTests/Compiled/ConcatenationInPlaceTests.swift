@testable import Backprop
import Testing

/// Concatenations written in place by the kernels that compute their pieces, sums of pads that tile a tensor
/// lowered as concatenations, and concatenations placed inside the concatenation they are a piece of: each
/// against the eager value and gradient.
@Suite struct ConcatenationInPlaceTests {
    /// An LSTM-like use of a parameter: each row cut into three gates. Its gradient is the gates' gradients
    /// padded to a row and summed (a concatenation of pieces written by one kernel), reshaped and padded to the
    /// whole and summed (a concatenation of those rows, placed in its memory).
    func gates(_ p: Tensor<Double>, _ x: Tensor<Double>) -> Tensor<Double> {
        var total = Tensor<Double>(0)
        for r in 0..<3 {
            let row = p.slicing(r..<(r + 1), alongAxis: 0).reshaped(to: [12])
            let g0 = row.slicing(0..<4), g1 = row.slicing(4..<8), g2 = row.slicing(8..<12)
            total = total + (sigmoid(g0 * x) * tanh(g1) + exp(g2) * g2).sum()
        }
        return total
    }

    @Test func gradientsOfSlicedRowsAndGatesEqualEager() {
        let p = uniform([3, 12], -1, 1, seed: 1), x = uniform([4], -1, 1, seed: 2)
        let f = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in
            let (value, g) = valueWithGradient(at: a[0], a[1]) { p, x in self.gates(p, x) }
            return [value, g.0, g.1]
        }
        let (value, g) = valueWithGradient(at: p, x) { p, x in gates(p, x) }
        _ = f([p, x])
        #expect(largestError(f([p, x]), [value, g.0, g.1]) <= 1e-12)
        // The same with a parameter accumulated onto (as a scan's pullback adds each step's gradient).
        let accumulated = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in
            [a[2] + gradient(at: a[0]) { p in self.gates(p, a[1]) }]
        }
        let start = uniform([3, 12], -1, 1, seed: 3)
        #expect(largestError(accumulated([p, x, start]), [start + g.0]) <= 1e-12)
    }

    @Test func padsThatLeaveAGapOrOverlapStayPads() {
        // Only gates 0 and 2 of a row are used (a gap where gate 1 was), and two overlapping slices.
        func f(_ p: Tensor<Double>) -> Tensor<Double> {
            (exp(p.slicing(0..<4)) + sin(p.slicing(8..<12))).sum() + (p.slicing(0..<8) * p.slicing(4..<12)).sum()
        }
        let p = uniform([12], -1, 1, seed: 4)
        let g = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in [gradient(at: a[0], of: f)] }
        _ = g([p])
        #expect(largestError(g([p]), [gradient(at: p, of: f)]) <= 1e-12)
    }

    @Test func sumsOfPadsEqualEagerWhetherTheyTileLeaveAGapOrOverlap() {
        // Pads summed directly: pieces that tile the whole (a concatenation, one piece an argument), that leave
        // a gap, that overlap, and that tile along the second axis.
        func f(_ a: Tensor<Double>, _ b: Tensor<Double>, _ m: Tensor<Double>) -> [Tensor<Double>] {
            let ea = exp(a), sb = sin(b)
            let tiles = (ea.padded(to: [12], placing: 0..<4, alongAxis: 0) + b.padded(to: [12], placing: 4..<12, alongAxis: 0))
                + Tensor(1)
            let gap = ea.padded(to: [12], placing: 0..<4, alongAxis: 0) + sb.slicing(0..<4).padded(to: [12], placing: 8..<12, alongAxis: 0)
            let overlap = sb.padded(to: [12], placing: 0..<8, alongAxis: 0) + sb.padded(to: [12], placing: 4..<12, alongAxis: 0)
            let columns = m.padded(to: [2, 5], placing: 0..<3, alongAxis: 1) + exp(m.slicing(0..<2, alongAxis: 1)).padded(to: [2, 5], placing: 3..<5, alongAxis: 1)
            return [tiles, gap * 2, overlap, columns]
        }
        let g = compiled { (x: [Tensor<Double>]) -> [Tensor<Double>] in f(x[0], x[1], x[2]) }
        let a = uniform([4], -1, 1, seed: 8), b = uniform([8], -1, 1, seed: 9), m = uniform([2, 3], -1, 1, seed: 10)
        _ = g([a, b, m])
        #expect(largestError(g([a, b, m]), withoutRecording { f(a, b, m) }) <= 1e-12)
    }

    @Test func concatenationsOfComputedAndGivenPiecesEqualEager() {
        // Pieces computed by one kernel (one of them twice, and also read elsewhere), by another kernel of
        // another shape, and an argument copied in; the concatenation returned, and read by a later kernel.
        func f(_ x: Tensor<Double>, _ y: Tensor<Double>, _ z: Tensor<Double>) -> [Tensor<Double>] {
            let e = exp(x), w = sin(z) * 2
            let c = Tensor(concatenating: [e, y, e * 3, w, e], alongAxis: 0)
            let rows = Tensor(concatenating: [c.reshaped(to: [1, 23]), (c * c).reshaped(to: [1, 23])], alongAxis: 0)
            return [c, (c * c).sum() + e.sum(), rows]
        }
        let g = compiled { (a: [Tensor<Double>]) -> [Tensor<Double>] in f(a[0], a[1], a[2]) }
        let x = uniform([5], -1, 1, seed: 5), y = uniform([5], -1, 1, seed: 6), z = uniform([3], -1, 1, seed: 7)
        _ = g([x, y, z])
        #expect(largestError(g([x, y, z]), withoutRecording { f(x, y, z) }) <= 1e-12)
    }
}
