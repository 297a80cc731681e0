import Backprop
import Testing

/// The README's "Beyond the gradient" snippets, run as written, with their comments as expectations.
@Suite struct ReadmeBeyondTheGradientTests {
    @Test func forwardModePullbacksJacobiansAndHessians() {
        // f(x, y, z) = z + sin(x² + y·eᶻ) with its three arguments in one vector.
        let f = { (v: Tensor<Double>) in v[2] + sin(v[0] * v[0] + v[1] * exp(v[2])) }
        let point = Tensor<Double>([2, -1, 0])

        let (value, dfdx) = valueWithJVP(at: point, along: Tensor([1, 0, 0]), of: f)
        #expect(value.scalar == 0.1411200080598672)
        #expect(dfdx.scalar == -3.9599699864017817)

        let (y, pullback) = valueWithPullback(at: point) { v in Tensor(stacking: [f(v), v[0] * v[1]]) }
        #expect(y.scalars == [0.1411200080598672, -2])
        #expect(pullback(Tensor([1, 0])).scalars == [-3.9599699864017817, -0.9899924966004454, 1.9899924966004454])
        #expect(pullback(Tensor([0, 1])).scalars == [-1, 2, 0])

        let J = jacobian(at: point) { v in Tensor(stacking: [f(v), v[0] * v[1]]) }
        #expect(J.shape == [2, 3])

        let H = hessian(at: point, of: f)
        #expect(H.shape == [3, 3] && H[index: 0, 0] == -4.237905122158766)
        let Hv = hessianVectorProduct(at: point, along: Tensor([1, 0, 0]), of: f)
        #expect(Hv.scalars == [-4.237905122158766, -0.5644800322394689, 0.5644800322394689])
    }

    @Test func anyOrderByNesting() {
        let x = Tensor<Double>(0.5)
        let d3 = gradient(at: x) { x in gradient(at: x) { x in gradient(at: x) { x in sin(x) * x } } }
        // d³/dx³ [x sin x] = −3 sin x − x cos x
        #expect(Swift.abs(d3.scalar - (-3 * Double.sin(0.5) - 0.5 * Double.cos(0.5))) < 1e-15)

        let one = gradient(at: Tensor<Double>(3)) { x in x * gradient(at: Tensor<Double>(1)) { y in x + y } }
        #expect(one.scalar == 1)

        let w = Tensor<Double>([0.5, 1.5]).requiringGradient()
        (w * w * w).sum().backward(createGraph: true)
        let g = w.grad!                  // 3w², itself differentiable
        w.clearGradient()
        g.sum().backward()
        #expect(w.grad!.scalars == [3, 9])   // 6w
    }

    @Test func customPrimitivesAndCheckpointing() {
        func roundedStraightThrough(_ x: Tensor<Double>) -> Tensor<Double> {
            customPrimitive(
                named: "roundSTE", at: x,
                value: { x in Tensor(shape: x.shape, scalars: x.scalars.map { $0.rounded() }) },
                vjp: { _, _, g in g },
                jvp: { _, _, t in t })
        }
        let g = gradient(at: Tensor<Double>([0.4, 1.6])) { x in (roundedStraightThrough(x) * x).sum() }
        #expect(g.scalars == [0.4, 3.6])   // round(x) + x · 1

        let weights = (0..<16).map { Tensor<Double>.randomNormal(shape: [8, 8], standardDeviation: 0.3, seed: UInt64($0)) }
        let input = Tensor<Double>.randomNormal(shape: [4, 8], seed: 99)
        let grads = gradient(at: weights) { w in
            var h = input
            for start in stride(from: 0, to: 16, by: 4) {
                h = checkpointed([h] + w[start..<(start + 4)]) { t in
                    t.dropFirst().reduce(t[0]) { h, w in tanh(matmul(h, w)) }
                }
            }
            return h.sum()
        }
        let plain = gradient(at: weights) { w in w.reduce(input) { h, w in tanh(matmul(h, w)) }.sum() }
        #expect(zip(grads, plain).allSatisfy { zip($0.scalars, $1.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-12 } })
    }
}
