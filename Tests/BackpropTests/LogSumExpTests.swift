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

    @Test func withNoAxesItReducesOverEveryAxisAsSumMeanAndMaxDo() {
        // Issue #24: `x.logSumExp()` compiled as the variadic form with no axes and returned x unchanged.
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 0.5])
        #expect(x.sum().shape == [] && x.mean().shape == [] && x.max().shape == [])
        let all = x.logSumExp()
        #expect(all.shape == [])
        #expect(Swift.abs(all.scalar - Double.log(x.scalars.map { Double.exp($0) }.reduce(0, +))) < 1e-14)
        #expect(Tensor<Float>(3).logSumExp().scalar == 3)
        // Its gradient is the softmax over every element.
        let g = gradient(at: x) { $0.logSumExp() }
        let total = x.scalars.map { Double.exp($0) }.reduce(0, +)
        #expect(zip(g.scalars, x.scalars).allSatisfy { Swift.abs($0 - Double.exp($1) / total) < 1e-15 })
        // Naming the axes explicitly still reduces only those.
        #expect(x.logSumExp(alongAxes: 1).shape == [2])
    }
}
