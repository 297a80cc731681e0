import Backprop
import Testing

/// The Swift snippets of README.md and of the Backprop catalog's articles (GettingStarted, Differentiation),
/// each written here exactly as printed there, followed by expectations for what its comments claim.
/// `DocumentationTests` (BackpropNNTests) checks that every snippet appears verbatim in a test.
@Suite struct DocumentationExampleTests {
    @Test func functionalAPI() {
        let (value, gradient) = valueWithGradient(at: Tensor<Double>(2), Tensor(-1), Tensor(0)) { x, y, z in
            z + sin(x * x + y * exp(z))
        }
        // value.scalar == 0.14112000805986721
        // gradient.0.scalar == -3.9599699864017817, gradient.1 ... -0.9899924966004454, gradient.2 ... 1.9899924966004454
        #expect(value.scalar == 0.14112000805986721)
        #expect(gradient.0.scalar == -3.9599699864017817)
        #expect(gradient.1.scalar == -0.9899924966004454)
        #expect(gradient.2.scalar == 1.9899924966004454)
    }

    @Test func pyTorchStyleAPI() {
        let x = Tensor<Double>(2).requiringGradient()
        let y = Tensor<Double>(-1).requiringGradient()
        let z = Tensor<Double>(0).requiringGradient()
        let f = z + sin(x * x + y * exp(z))
        f.backward()
        // x.grad!.scalar == -3.9599699864017817
        #expect(x.grad!.scalar == -3.9599699864017817)
        #expect(y.grad!.scalar == -0.9899924966004454 && z.grad!.scalar == 1.9899924966004454 && f.scalar == 0.14112000805986721)
    }

    @Test func broadcastingGradientsHaveTheInputsShapes() {
        let W = Tensor<Double>.randomNormal(shape: [3, 4], seed: 1)
        let x = Tensor<Double>.randomNormal(shape: [4, 1], seed: 2)
        let b = Tensor<Double>.randomNormal(shape: [3, 1], seed: 3)
        let u = Tensor<Double>.randomNormal(shape: [3, 1], seed: 4)
        let (dW, db) = gradient(at: W, b) { W, b in (u * sigmoid(matmul(W, x) + b)).sum() }
        // db = u ∘ f′(z) = δ (shape [3, 1]);  dW = δ xᵀ (shape [3, 4], an outer product)
        let s = sigmoid(matmul(W, x) + b)
        let delta = u * s * (1 - s)
        #expect(db.shape == [3, 1] && dW.shape == [3, 4])
        for (a, e) in zip(db.scalars, delta.scalars) { #expect(Swift.abs(a - e) < 1e-15) }
        for (a, e) in zip(dW.scalars, matmul(delta, x.transposed()).scalars) { #expect(Swift.abs(a - e) < 1e-15) }
    }

    @Test func readmeTransformsInBrief() {
        let f = { (v: Tensor<Double>) in v[2] + sin(v[0] * v[0] + v[1] * exp(v[2])) }
        let point = Tensor<Double>([2, -1, 0])
        let (value, dfdx) = valueWithJVP(at: point, along: Tensor([1, 0, 0]), of: f)   // forward mode: ∂f/∂x
        let J = jacobian(at: point) { v in Tensor(stacking: [f(v), v[0] * v[1]]) }        // shape [2, 3]
        let H = hessian(at: point, of: f)                                               // H[index: 0, 0] == -4.237905122158766
        let d3 = gradient(at: Tensor<Double>(0.5)) { x in gradient(at: x) { x in gradient(at: x) { x in sin(x) * x } } }
        #expect(value.scalar == 0.1411200080598672 && dfdx.scalar == -3.9599699864017817)
        #expect(J.shape == [2, 3])
        #expect(H[index: 0, 0] == -4.237905122158766)
        // d³/dx³ [x sin x] = −3 sin x − x cos x
        #expect(Swift.abs(d3.scalar - (-3 * Double.sin(0.5) - 0.5 * Double.cos(0.5))) < 1e-15)
    }

    @Test func forwardModePullbacksJacobiansAndHessians() {
        let f = { (v: Tensor<Double>) in v[2] + sin(v[0] * v[0] + v[1] * exp(v[2])) }
        let point = Tensor<Double>([2, -1, 0])

        // Forward mode: J·v in one forward sweep (here ∂f/∂x).
        let (value, dfdx) = valueWithJVP(at: point, along: Tensor([1, 0, 0]), of: f)   // 0.1411…, -3.9599699864017817

        // Reverse mode for any output shape: a pullback u ↦ uᵀJ, callable many times on one recording.
        let (y, pullback) = valueWithPullback(at: point) { v in Tensor(stacking: [f(v), v[0] * v[1]]) }
        let row0 = pullback(Tensor([1, 0]))   // [-3.9599699864017817, -0.9899924966004454, 1.9899924966004454]
        let row1 = pullback(Tensor([0, 1]))   // [-1, 2, 0]

        // Jacobians (shape f(x).shape + x.shape) by forward or reverse sweeps, whichever is cheaper, or as asked.
        let J = jacobian(at: point) { v in Tensor(stacking: [f(v), v[0] * v[1]]) }        // shape [2, 3]
        let Jf = jacobian(at: point, mode: .forward) { v in Tensor(stacking: [f(v), v[0] * v[1]]) }

        // Hessians (forward over reverse) and Hessian-vector products without forming the Hessian.
        let H = hessian(at: point, of: f)                                               // H[index: 0, 0] == -4.237905122158766
        let Hv = hessianVectorProduct(at: point, along: Tensor([1, 0, 0]), of: f)       // the first column of H

        #expect(value.scalar == 0.1411200080598672)
        #expect(dfdx.scalar == -3.9599699864017817)
        #expect(y.scalars == [0.1411200080598672, -2])
        #expect(row0.scalars == [-3.9599699864017817, -0.9899924966004454, 1.9899924966004454])
        #expect(row1.scalars == [-1, 2, 0])
        #expect(J.shape == [2, 3] && J.scalars == Jf.scalars)
        #expect(H.shape == [3, 3] && H[index: 0, 0] == -4.237905122158766)
        #expect(Hv.scalars == [-4.237905122158766, -0.5644800322394689, 0.5644800322394689])
        #expect(Hv.scalars == [H[index: 0, 0], H[index: 1, 0], H[index: 2, 0]])
    }

    @Test func anyOrderByNesting() {
        let x = Tensor<Double>(0.5)
        let d3 = gradient(at: x) { x in gradient(at: x) { x in gradient(at: x) { x in sin(x) * x } } }  // −3 sin x − x cos x
        let one = gradient(at: Tensor<Double>(3)) { x in x * gradient(at: Tensor<Double>(1)) { y in x + y } }  // 1

        // PyTorch style: a backward pass that builds a graph leaves gradients you can differentiate again.
        let w = Tensor<Double>([0.5, 1.5]).requiringGradient()
        (w * w * w).sum().backward(createGraph: true)
        let g = w.grad!                 // 3w², itself differentiable
        w.clearGradient()
        g.sum().backward()              // w.grad == 6w == [3, 9]
        #expect(Swift.abs(d3.scalar - (-3 * Double.sin(0.5) - 0.5 * Double.cos(0.5))) < 1e-15)
        #expect(one.scalar == 1)
        #expect(w.grad!.scalars == [3, 9])
    }

    @Test func customDerivatives() {
        func roundedStraightThrough(_ x: Tensor<Double>) -> Tensor<Double> {
            customPrimitive(
                named: "roundSTE", at: x,
                value: { x in Tensor(shape: x.shape, scalars: x.scalars.map { $0.rounded() }) },
                vjp: { _, _, g in g },
                jvp: { _, _, t in t })
        }
        let g = gradient(at: Tensor<Double>([0.4, 1.6])) { x in (roundedStraightThrough(x) * x).sum() }
        #expect(g.scalars == [0.4, 3.6])   // round(x) + x · 1
    }

    @Test func compiledStep() {
        var parameters = [Tensor<Float>.randomNormal(shape: [3, 2], seed: 1), Tensor<Float>.zeros(shape: [2])]
        let x = Tensor<Float>.randomNormal(shape: [8, 3], seed: 2), y = Tensor<Float>.randomNormal(shape: [8, 2], seed: 3)
        var eager = parameters
        let step = compiled(updating: { (p: inout [Tensor<Float>], batch: [Tensor<Float>]) -> [Tensor<Float>] in
            let (loss, g) = valueWithGradient(at: p) { p in ((matmul(batch[0], p[0]) + p[1]) - batch[1]).squared().mean() }
            for i in p.indices { p[i] = p[i] - 0.01 * g[i] }
            return [loss]
        })
        let loss = step(&parameters, [x, y])[0]
        let later = step(&parameters, [x, y])[0]
        #expect(later.scalar < loss.scalar)
        for _ in 0..<2 {
            let g = gradient(at: eager) { p in ((matmul(x, p[0]) + p[1]) - y).squared().mean() }
            for i in eager.indices { eager[i] = eager[i] - 0.01 * g[i] }
        }
        #expect(zip(parameters, eager).allSatisfy { zip($0.scalars, $1.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-6 } })
    }

    @Test func checkpointing() {
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
