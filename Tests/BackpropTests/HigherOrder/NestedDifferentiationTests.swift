import Backprop
import Foundation
import Testing

/// Transforms nested inside each other: the lecture's Hessian by hand, third derivatives, perturbations
/// that must not be confused, and the PyTorch-style create-graph backward pass.
@Suite struct NestedDifferentiationTests {
    @Test func perturbationsOfNestedLevelsStayApart() {
        // d/dx [x · d/dy (x + y)] = 1 everywhere: the inner derivative is 1, whatever x is.
        for x0 in [-2.0, 0.0, 3.5] {
            let outer = gradient(at: Tensor<Double>(x0)) { x in
                x * gradient(at: Tensor<Double>(1.0)) { y in x + y }
            }
            #expect(outer.scalar == 1)
            // The same by forward mode on either level.
            let forward = jvp(at: Tensor<Double>(x0), along: Tensor(1)) { x in
                x * jvp(at: Tensor<Double>(1.0), along: Tensor(1)) { y in x + y }
            }
            #expect(forward.scalar == 1)
        }
        // With the inner level differentiating at x itself: d/dx [x · d/dy (x·y)|_{y=x}] = d/dx [x · x] = 2x.
        let mixed = gradient(at: Tensor<Double>(3)) { x in x * gradient(at: x) { y in x * y } }
        #expect(mixed.scalar == 6)
    }

    @Test func lecture004HessianByHand() {
        // f(x, y, z) = z + sin(x² + y·eᶻ) at (2, −1, 0); with u = x² + y·eᶻ = 3:
        // f_xx = 2cos u − 4x² sin u, f_xy = −2x eᶻ sin u, f_xz = −2x y eᶻ sin u,
        // f_yy = −e²ᶻ sin u, f_yz = eᶻ cos u − y e²ᶻ sin u, f_zz = y eᶻ cos u − y² e²ᶻ sin u.
        let point = Tensor<Double>([2, -1, 0])
        let h = hessian(at: point) { v in v[2] + sin(v[0] * v[0] + v[1] * exp(v[2])) }
        let (x, y, z) = (2.0, -1.0, 0.0), u = 3.0
        let expected: [[Double]] = [
            [2 * cos(u) - 4 * x * x * sin(u), -2 * x * exp(z) * sin(u), -2 * x * y * exp(z) * sin(u)],
            [-2 * x * exp(z) * sin(u), -exp(2 * z) * sin(u), exp(z) * cos(u) - y * exp(2 * z) * sin(u)],
            [-2 * x * y * exp(z) * sin(u), exp(z) * cos(u) - y * exp(2 * z) * sin(u), y * exp(z) * cos(u) - y * y * exp(2 * z) * sin(u)],
        ]
        #expect(h.shape == [3, 3])
        for i in 0..<3 {
            for j in 0..<3 { #expect(Swift.abs(h[index: i, j] - expected[i][j]) < 1e-12, "H[\(i)][\(j)]") }
        }
        // The same Hessian from three scalar arguments, as blocks.
        let blocks = hessian(at: [Tensor<Double>(2), Tensor(-1), Tensor(0)]) { v in v[2] + sin(v[0] * v[0] + v[1] * exp(v[2])) }
        for i in 0..<3 {
            for j in 0..<3 { #expect(Swift.abs(blocks[i][j].scalar - expected[i][j]) < 1e-12) }
        }
    }

    @Test func thirdAndFourthDerivativesByEveryNesting() {
        // f = sin(x)·eˣ: f‴ = 2eˣ(cos x − sin x), f⁗ = −4 eˣ sin x.
        let x0 = 0.7
        let f: (Tensor<Double>) -> Tensor<Double> = { sin($0) * exp($0) }
        let third = 2 * exp(x0) * (cos(x0) - sin(x0)), fourth = -4 * exp(x0) * sin(x0)
        let d = { (g: @escaping (Tensor<Double>) -> Tensor<Double>) in { (x: Tensor<Double>) in gradient(at: x, of: g) } }
        let j = { (g: @escaping (Tensor<Double>) -> Tensor<Double>) in { (x: Tensor<Double>) in jvp(at: x, along: Tensor(1), of: g) } }
        let x = Tensor<Double>(x0)
        #expect(Swift.abs(d(d(d(f)))(x).scalar - third) < 1e-12)
        #expect(Swift.abs(j(j(j(f)))(x).scalar - third) < 1e-12)
        #expect(Swift.abs(d(j(d(f)))(x).scalar - third) < 1e-12)
        #expect(Swift.abs(j(d(j(f)))(x).scalar - third) < 1e-12)
        #expect(Swift.abs(d(d(j(d(f))))(x).scalar - fourth) < 1e-11)
        // On tensors: the third derivative of Σ tanh(W x) along v, against central differences of the
        // second derivative.
        let w = Tensor<Double>.randomUniform(shape: [3, 2], lowerBound: -1, upperBound: 1, seed: 5)
        let g: (Tensor<Double>) -> Tensor<Double> = { tanh(matmul(w, $0.reshaped(to: [2, 1]))).sum() }
        let v = Tensor<Double>([0.3, -0.8]), point = Tensor<Double>([0.2, 0.4])
        let second: (Tensor<Double>) -> Tensor<Double> = { x in jvp(at: x, along: v) { x in jvp(at: x, along: v, of: g) } }
        let thirdAD = jvp(at: point, along: v, of: second).scalar
        let h = 1e-4
        let thirdFD = (second(point + h * v).scalar - second(point - h * v).scalar) / (2 * h)
        #expect(Swift.abs(thirdAD - thirdFD) < 1e-7)
    }

    @Test func backwardCreateGraphLeavesADifferentiableGradient() {
        let x = Tensor<Double>(1.5).requiringGradient()
        let y = x * x * x
        y.backward(createGraph: true)
        let first = x.grad!
        #expect(first.scalar == 3 * 1.5 * 1.5)
        #expect(first.isTracked)
        x.clearGradient()
        first.backward()
        #expect(x.grad!.scalar == 6 * 1.5)
        // Tensors too: grad of Σ exp(w) is exp(w), whose own gradient through Σ is exp(w) again.
        let w = Tensor<Double>([0.1, 0.2]).requiringGradient()
        exp(w).sum().backward(createGraph: true)
        let g = w.grad!
        w.clearGradient()
        (g * g).sum().backward()
        #expect(w.grad!.scalars.enumerated().allSatisfy { Swift.abs($1 - 2 * exp(2 * [0.1, 0.2][$0])) < 1e-12 })
    }

    @Test func conventionsAtKinksAreTheBranchTaken() {
        // As PyTorch and JAX: relu′(0) = 0, |x|′ at 0 = 0, max/min route to the first argument on a tie;
        // second derivatives of these piecewise-linear functions are 0.
        let zero = Tensor<Double>(0)
        #expect(gradient(at: zero) { relu($0) }.scalar == 0)
        #expect(gradient(at: zero) { abs($0) }.scalar == 0)
        let (ga, gb) = gradient(at: Tensor<Double>(1), Tensor(1)) { max($0, $1) }
        #expect(ga.scalar == 1 && gb.scalar == 0)
        let (ma, mb) = gradient(at: Tensor<Double>(1), Tensor(1)) { min($0, $1) }
        #expect(ma.scalar == 1 && mb.scalar == 0)
        #expect(jvp(at: zero, along: Tensor(1)) { relu($0) }.scalar == 0)
        for x0 in [-1.0, 0.0, 2.0] {
            #expect(gradient(at: Tensor<Double>(x0)) { x in gradient(at: x) { relu($0) * 3 } }.scalar == 0)
            #expect(gradient(at: Tensor<Double>([x0, 1])) { x in gradient(at: x) { abs($0).sum() }.sum() }.scalars == [0, 0])
        }
        // The max reduction routes to the first largest element at every order.
        let tied = Tensor<Double>([1, 3, 3])
        #expect(gradient(at: tied) { $0.max() }.scalars == [0, 1, 0])
        #expect(jvp(at: tied, along: Tensor([1, 2, 4])) { $0.max() }.scalar == 2)
    }

    @Test func jacobiansByBothModesAgree() {
        let x = Tensor<Double>([0.3, -0.2, 0.5])
        let w = Tensor<Double>.randomUniform(shape: [4, 3], lowerBound: -1, upperBound: 1, seed: 1)
        let f: (Tensor<Double>) -> Tensor<Double> = { tanh(matmul(w, $0.reshaped(to: [3, 1]))).reshaped(to: [2, 2]) }
        let forward = jacobian(at: x, mode: .forward, of: f), reverse = jacobian(at: x, mode: .reverse, of: f)
        #expect(forward.shape == [2, 2, 3])
        #expect(largestError([forward], [reverse]) < 1e-14)
        #expect(largestError([jacobian(at: x, of: f)], [forward]) < 1e-14)
        // Lecture 001's elementwise case: h = f(z) has a diagonal Jacobian diag(f′(z)).
        let z = Tensor<Double>([0.1, -0.4, 0.9])
        let j = jacobian(at: z) { sigmoid($0) }
        for r in 0..<3 {
            for c in 0..<3 {
                let s = 1 / (1 + exp(-z.scalars[r]))
                #expect(Swift.abs(j[index: r, c] - (r == c ? s * (1 - s) : 0)) < 1e-15)
            }
        }
    }

    @Test func pullbackCanBeCalledManyTimes() {
        let (y, pullback) = valueWithPullback(at: Tensor<Double>([1, 2, 3])) { x in x * x }
        #expect(y.scalars == [1, 4, 9])
        #expect(pullback(Tensor([1, 0, 0])).scalars == [2, 0, 0])
        #expect(pullback(Tensor([0, 1, 1])).scalars == [0, 4, 6])
        #expect(vjp(at: Tensor<Double>([1, 2]), along: Tensor([1, 1])) { $0 * $0 }.scalars == [2, 4])
    }

    @Test func floatWorksToo() {
        let h = hessian(at: Tensor<Float>([1, 2])) { x in (x * x * x).sum() }
        #expect(h.scalars == [6, 0, 0, 12])
        #expect(jvp(at: Tensor<Float>(2), along: Tensor(1)) { $0 * $0 }.scalar == 4)
    }
}

/// Elementwise functions split across threads on large tensors give the same numbers as element by element,
/// and empty tensors pass through.
@Suite struct ParallelElementwiseTests {
    @Test func largeAndEmptyTensors() {
        // Values in [-2, 2]: one in 64 below 1/32, where tanh's kernel takes another formula, so most vectors
        // mix the two; each value's result must still be the kernel's on that value alone.
        let x = Tensor<Double>.randomUniform(shape: [300, 700], lowerBound: -2, upperBound: 2, seed: 3)
        let y = tanh(x)
        func alone(_ value: Double) -> Double {
            var (input, output) = (value, 0.0)
            Double._tanh(&input, &output, count: 1)
            return output
        }
        #expect(zip(y.scalars, x.scalars).allSatisfy { $0 == alone($1) })
        let g = gradient(at: x) { tanh($0).sum() }
        #expect(zip(g.scalars, y.scalars).allSatisfy { $0 == 1 - $1 * $1 })
        let empty = Tensor<Float>(shape: [0, 3], scalars: [])
        #expect(exp(empty).shape == [0, 3])
        #expect(gradient(at: empty) { exp($0).sum() }.shape == [0, 3])
    }
}
