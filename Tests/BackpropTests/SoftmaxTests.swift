import Backprop
import Testing

/// Softmax and log-softmax values along every axis against the formula written out in Double, on lines along
/// the last axis (in place) and along others (gathered), and on a tensor large enough to split across threads.
@Suite struct SoftmaxTests {
    /// exp(x − m) / Σ exp(x − m) (or its log) along `axis`, one line at a time, in Double.
    func reference(_ x: Tensor<Double>, axis: Int, log: Bool) -> [Double] {
        let shape = x.shape
        let n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
        var out = [Double](repeating: 0, count: x.scalarCount)
        let v = x.scalars
        for o in 0..<outer {
            for j in 0..<inner {
                let indices = (0..<n).map { o * n * inner + $0 * inner + j }
                let m = indices.map { v[$0] }.max()!
                let s = indices.map { Double.exp(v[$0] - m) }.reduce(0, +)
                for i in indices { out[i] = log ? v[i] - m - Double.log(s) : Double.exp(v[i] - m) / s }
            }
        }
        return out
    }

    func largestError(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { Swift.abs($0 - $1) / Swift.max(Swift.abs($1), 1e-300) }.max() ?? 0
    }

    @Test func everyAxisMatchesTheFormula() {
        let x = Tensor<Double>.randomNormal(shape: [3, 4, 5], standardDeviation: 4, seed: 1)
        for axis in 0..<3 {
            #expect(largestError(x.softmax(alongAxis: axis).scalars, reference(x, axis: axis, log: false)) <= 1e-14)
            #expect(largestError(x.logSoftmax(alongAxis: axis).scalars, reference(x, axis: axis, log: true)) <= 1e-14)
        }
    }

    @Test func largeTensorsSplitAcrossThreadsAndStayStable() {
        // 300 × 300 = 90 000 values: split by lines across the cores, along either axis.
        let x = Tensor<Double>.randomNormal(shape: [300, 300], standardDeviation: 30, seed: 2) + 800
        for axis in 0..<2 {
            let y = x.softmax(alongAxis: axis)
            #expect(y.scalars.allSatisfy { $0.isFinite })
            #expect(largestError(y.scalars, reference(x, axis: axis, log: false)) <= 1e-13)
            #expect(largestError(x.logSoftmax(alongAxis: axis).scalars, reference(x, axis: axis, log: true)) <= 1e-13)
        }
        let f = Tensor<Float>(shape: [2, 3], scalars: [0, 0, 0, -.infinity, 1, -.infinity])
        let expected: [Float] = [1.0 / 3, 1.0 / 3, 1.0 / 3, 0, 1, 0]
        let got: [Float] = f.softmax(alongAxis: 1).scalars
        #expect(zip(got, expected).allSatisfy { Swift.abs($0 - $1) < 1e-6 }, "\(got)")
    }
}
