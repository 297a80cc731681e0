import Backprop
import Testing

/// logSumExp's values: stable for large inputs, −∞ rows, agreement with the naive formula.
@Suite struct LogSumExpTests {
    @Test func valuesAreStableAndMatchTheNaiveFormula() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 0.5])
        let naive = log(exp(x).sum(alongAxes: 1))
        let fused = x.logSumExp(alongAxes: 1)
        #expect(zip(naive.scalars, fused.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-15 })
        // exp(1000) overflows; the fused form does not.
        let large = Tensor<Double>([1000, 1000])
        #expect(Swift.abs(large.logSumExp(alongAxes: 0).scalar - (1000 + Double.log(2))) < 1e-12)
        let minusInfinity = Tensor<Double>(shape: [1, 2], scalars: [-.infinity, -.infinity])
        #expect(minusInfinity.logSumExp(alongAxes: 1).scalars == [-.infinity])
        #expect(Tensor<Float>(shape: [2, 2], scalars: [0, 0, 1, 1]).logSumExp(alongAxes: -1, keepingDimensions: true).shape == [2, 1])
        // Its gradient is the softmax.
        let g = gradient(at: x) { $0.logSumExp(alongAxes: 1).sum() }
        #expect(zip(g.scalars, x.softmax(alongAxis: 1).scalars).allSatisfy { Swift.abs($0 - $1) < 1e-15 })
    }
}
