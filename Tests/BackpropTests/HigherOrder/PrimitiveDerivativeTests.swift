import Backprop
import Testing

/// Relative error with a floor of 1 on the scale, as the gradient checker measures it.
func relativeError(_ a: Double, _ b: Double) -> Double {
    Swift.abs(a - b) / Swift.max(1, Swift.abs(a), Swift.abs(b))
}

/// The largest relative error between two lists of tensors of equal shapes.
func largestError(_ a: [Tensor<Double>], _ b: [Tensor<Double>]) -> Double {
    var worst = 0.0
    for (x, y) in zip(a, b) {
        precondition(x.shape == y.shape, "shapes \(x.shape) and \(y.shape)")
        for (p, q) in zip(x.scalars, y.scalars) { worst = Swift.max(worst, relativeError(p, q)) }
    }
    return worst
}

/// ⟨a, b⟩ over lists of tensors.
func dot(_ a: [Tensor<Double>], _ b: [Tensor<Double>]) -> Double {
    zip(a, b).reduce(0) { $0 + zip($1.0.scalars, $1.1.scalars).reduce(0) { $0 + $1.0 * $1.1 } }
}

/// Random directions with the shapes of `tensors`.
func directions(like tensors: [Tensor<Double>], seed: UInt64) -> [Tensor<Double>] {
    tensors.enumerated().map { uniform($1.shape, -1, 1, seed: seed + UInt64($0)) }
}

/// Every primitive's forward mode (JVP) against central differences and against its own reverse mode by
/// the dot-product test, and its second derivatives (Hessian-vector products by forward-over-reverse and
/// by reverse-over-reverse) against central differences of the gradient, in float64.
@Suite struct PrimitiveDerivativeTests {
    @Test(arguments: primitiveCases)
    func jvpMatchesFiniteDifferences(_ c: PrimitiveCase) {
        let v = directions(like: c.inputs, seed: 100)
        let (value, tangent) = valueWithJVP(at: c.inputs, along: v, of: c.f)
        #expect(value == withoutRecording { c.f(c.inputs) })
        let h = 1e-6
        let plus = c.f(zip(c.inputs, v).map { $0 + h * $1 }), minus = c.f(zip(c.inputs, v).map { $0 - h * $1 })
        let estimate = (plus - minus) / (2 * h)
        #expect(largestError([tangent], [estimate]) < 1e-6, "\(c.name)")
    }

    @Test(arguments: primitiveCases)
    func jvpAndVJPAgreeByTheDotProductTest(_ c: PrimitiveCase) {
        // ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ for random u and v.
        let v = directions(like: c.inputs, seed: 200)
        let (y, pullback) = valueWithPullback(at: c.inputs, of: c.f)
        let u = uniform(y.shape, -1, 1, seed: 300)
        let jv = jvp(at: c.inputs, along: v, of: c.f)
        let left = dot([u], [jv]), right = dot(pullback(u), v)
        #expect(Swift.abs(left - right) <= 1e-10 * Swift.max(1, Swift.abs(left)), "\(c.name): \(left) vs \(right)")
    }

    @Test(arguments: primitiveCases)
    func secondDerivativesMatchFiniteDifferencesOfTheGradient(_ c: PrimitiveCase) {
        // g(x) = ⟨u, f(x)⟩ is a scalar function exercising every output element.
        let u = uniform(withoutRecording { c.f(c.inputs) }.shape, -1, 1, seed: 400)
        let g: ([Tensor<Double>]) -> Tensor<Double> = { (c.f($0) * u).sum() }
        let v = directions(like: c.inputs, seed: 500)
        let h = 1e-5
        let plus = gradient(at: zip(c.inputs, v).map { $0 + h * $1 }, of: g)
        let minus = gradient(at: zip(c.inputs, v).map { $0 - h * $1 }, of: g)
        let estimate = zip(plus, minus).map { ($0 - $1) / (2 * h) }
        // Forward over reverse.
        let forwardOverReverse = hessianVectorProduct(at: c.inputs, along: v, of: g)
        #expect(largestError(forwardOverReverse, estimate) < 1e-5, "\(c.name) forward-over-reverse")
        // Reverse over reverse: the gradient of ⟨∇g, v⟩.
        let reverseOverReverse = gradient(at: c.inputs) { xs in
            zip(gradient(at: xs, of: g), v).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
        }
        #expect(largestError(reverseOverReverse, estimate) < 1e-5, "\(c.name) reverse-over-reverse")
        // Reverse over forward: the gradient of ⟨u, J v⟩.
        let reverseOverForward = gradient(at: c.inputs) { xs in jvp(at: xs, along: v, of: g) }
        #expect(largestError(reverseOverForward, estimate) < 1e-5, "\(c.name) reverse-over-forward")
    }

    @Test(arguments: primitiveCases.filter { $0.inputs.count == 1 && $0.inputs[0].scalarCount <= 12 })
    func hessiansAreSymmetricAndMatchHessianVectorProducts(_ c: PrimitiveCase) {
        let u = uniform(withoutRecording { c.f(c.inputs) }.shape, -1, 1, seed: 600)
        let g: (Tensor<Double>) -> Tensor<Double> = { (c.f([$0]) * u).sum() }
        let x = c.inputs[0], n = x.scalarCount
        let h = hessian(at: x, of: g)
        #expect(h.shape == x.shape + x.shape)
        let matrix = h.scalars
        for i in 0..<n {
            for j in 0..<n { #expect(Swift.abs(matrix[i * n + j] - matrix[j * n + i]) < 1e-10, "\(c.name) [\(i), \(j)]") }
        }
        let v = uniform(x.shape, -1, 1, seed: 700)
        let hv = matmul(h.reshaped(to: [n, n]), v.reshaped(to: [n, 1])).reshaped(to: x.shape)
        #expect(largestError([hv], [hessianVectorProduct(at: x, along: v, of: g)]) < 1e-10, "\(c.name)")
    }

    @Test(arguments: primitiveCases)
    func batchedJacobiansMatchOneSeedAtATime(_ c: PrimitiveCase) {
        // jacobian(at:) runs batched sweeps (every seed at once); the reference runs one pullback per output
        // element and one JVP per input element.
        let y = withoutRecording { c.f(c.inputs) }
        let (_, pullback) = valueWithPullback(at: c.inputs, of: c.f)
        let reverse = jacobian(at: c.inputs, mode: .reverse, of: c.f)
        let forward = jacobian(at: c.inputs, mode: .forward, of: c.f)
        for (i, x) in c.inputs.enumerated() {
            let rows = (0..<y.scalarCount).map { j -> Tensor<Double> in
                var seed = [Double](repeating: 0, count: y.scalarCount)
                seed[j] = 1
                return pullback(Tensor(shape: y.shape, scalars: seed))[i].reshaped(to: [x.scalarCount])
            }
            let byRows = Tensor(stacking: rows).reshaped(to: y.shape + x.shape)
            #expect(largestError([reverse[i]], [byRows]) < 1e-13, "\(c.name) reverse, input \(i)")
            let columns = (0..<x.scalarCount).map { k -> Tensor<Double> in
                let directions = c.inputs.enumerated().map { m, t -> Tensor<Double> in
                    var v = [Double](repeating: 0, count: t.scalarCount)
                    if m == i { v[k] = 1 }
                    return Tensor(shape: t.shape, scalars: v)
                }
                return jvp(at: c.inputs, along: directions, of: c.f).reshaped(to: [y.scalarCount])
            }
            let byColumns = Tensor(stacking: columns, alongAxis: 1).reshaped(to: y.shape + x.shape)
            #expect(largestError([forward[i]], [byColumns]) < 1e-13, "\(c.name) forward, input \(i)")
        }
    }
}
