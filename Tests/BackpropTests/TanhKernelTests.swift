@testable import Backprop
import CBackpropKernels
import Foundation
import Testing

/// `bp_stanh`, the single-precision tanh behind `tanh(_:)` on Float tensors: within 3 ulp of the exact value
/// on every kernel path, with the IEEE special cases and any length (the vector loop's tail).
@Suite struct TanhKernelTests {
    /// Inputs over the whole range: a fine grid, both sides of the 0.625 switch, tiny and subnormal values,
    /// saturation, and special values.
    static let inputs: [Float] = {
        var values = stride(from: -12.0, through: 12.0, by: 0.0037).map { Float($0) }
        values += [0.625, 0.62499997, 0.62500006, -0.625, 1e-30, -1e-30, 1e-8, -3e-6, 1e-3, 9, 9.1, -9.1, 20, 88, -88]
        values += [Float.leastNonzeroMagnitude, -Float.leastNormalMagnitude, Float.greatestFiniteMagnitude]
        return values
    }()

    /// The distance from `value` to `exact` in units of the last place of the float nearest `exact`.
    func ulps(_ value: Float, _ exact: Double) -> Double {
        let nearest = Float(exact)
        let ulp = nearest == 0 ? Double(Float.leastNonzeroMagnitude) : Double(nearest.ulp)
        return Swift.abs(Double(value) - exact) / ulp
    }

    @Test(arguments: testableKernelPaths)
    func matchesDoublePrecisionTanh(path: KernelPath) {
        withKernelPath(path) {
            let x = Self.inputs
            var y = [Float](repeating: .nan, count: x.count)
            bp_stanh(x, &y, x.count)
            var worst = 0.0
            for (xi, yi) in zip(x, y) {
                let error = ulps(yi, Foundation.tanh(Double(xi)))
                worst = Swift.max(worst, error)
                if error > 3 { Issue.record("\(path): tanh(\(xi)) = \(yi), exact \(Foundation.tanh(Double(xi))) (\(error) ulp)") }
            }
            #expect(worst <= 3)
        }
    }

    @Test(arguments: testableKernelPaths)
    func specialValuesAndEveryTailLength(path: KernelPath) {
        withKernelPath(path) {
            let special: [Float] = [.nan, .infinity, -.infinity, 0, -0.0]
            var y = [Float](repeating: 7, count: special.count)
            bp_stanh(special, &y, special.count)
            #expect(y[0].isNaN)
            #expect(y[1] == 1 && y[2] == -1)
            #expect(y[3] == 0 && y[3].sign == .plus && y[4] == 0 && y[4].sign == .minus)
            // Lengths around the 16-lane width: every element written, nothing past the end.
            for n in 0...40 {
                let x = (0..<n).map { Float($0) * 0.3 - 5 }
                var out = [Float](repeating: 42, count: n + 3)
                out.withUnsafeMutableBufferPointer { bp_stanh(x, $0.baseAddress!, n) }
                for i in 0..<n { #expect(ulps(out[i], Foundation.tanh(Double(x[i]))) <= 3, "n = \(n), i = \(i)") }
                #expect(out[n...] == [42, 42, 42], "wrote past \(n) values")
            }
        }
    }

    @Test func floatTensorsUseItAndStillDifferentiate() {
        // A tensor long enough to be split over the cores; its gradient 1 − tanh² still matches.
        let n = 70_000
        let x = Tensor<Float>(shape: [n], scalars: (0..<n).map { Float($0 % 1000) / 100 - 5 })
        let (value, g) = valueWithGradient(at: x) { tanh($0).sum() }
        let exact = x.scalars.reduce(0.0) { $0 + Foundation.tanh(Double($1)) }
        #expect(Swift.abs(Double(value.scalar) - exact) <= 1e-3 * Swift.abs(exact) + 1)
        for i in stride(from: 0, to: n, by: 997) {
            let t = Foundation.tanh(Double(x.scalars[i]))
            #expect(Swift.abs(Double(g.scalars[i]) - (1 - t * t)) <= 1e-6)
        }
    }
}
