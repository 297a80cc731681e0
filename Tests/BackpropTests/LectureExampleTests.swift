import Backprop
import Testing

/// The lectures' worked examples, through the public API, in float64.
@Suite struct LectureExampleTests {
    /// Relative closeness for values quoted to 17 significant digits.
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-14) -> Bool {
        Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b))
    }

    @Test func lecture004ChainOfPrimitives() {
        // f(x,y,z) = z + sin(x² + y·exp(z)) at (2, −1, 0)
        let (value, g) = valueWithGradient(at: Tensor<Double>(2), Tensor(-1), Tensor(0)) { x, y, z in
            z + sin(x * x + y * exp(z))
        }
        #expect(close(value.scalar, 0.14112000805986721))
        #expect(close(g.0.scalar, -3.9599699864017817))
        #expect(close(g.1.scalar, -0.9899924966004454))
        #expect(close(g.2.scalar, 1.9899924966004454))
    }

    @Test func lecture002SigmoidGraph() {
        // z = (x + σ(x)) / (σ(x) + (x + y)²) at x = 4, y = 3
        let (value, g) = valueWithGradient(at: Tensor<Double>(4), Tensor(3)) { x, y in
            let s = sigmoid(x)
            return (x + s) / (s + (x + y) * (x + y))
        }
        #expect(close(value.scalar, 0.09967613171742373))
        #expect(close(g.0.scalar, -0.007594005508783548))
        #expect(close(g.1.scalar, -0.027919360150352072))
    }

    @Test func lecture002IntermediateTables() {
        // The slide's forward table: σ(4) = 0.982, (x+y)² = 49, denominator 49.982, 1/denominator ≈ 0.02,
        // numerator 4.982, z = 0.0997; local derivatives 0.0177, 14, −0.0004.
        let x = 4.0, y = 3.0
        let s = sigmoid(Tensor<Double>(x)).scalar
        #expect(Swift.abs(s - 0.982) < 5e-4)
        let local = gradient(at: Tensor<Double>(x)) { sigmoid($0) }.scalar
        #expect(Swift.abs(local - 0.0177) < 5e-5)
        let squared = gradient(at: Tensor<Double>(x), Tensor(y)) { a, b in (a + b) * (a + b) }
        #expect(squared.0.scalar == 14 && squared.1.scalar == 14)
        let denominator = s + 49
        #expect(Swift.abs(denominator - 49.982) < 5e-4)
        let inverseLocal = gradient(at: Tensor<Double>(denominator)) { 1 / $0 }.scalar
        #expect(Swift.abs(inverseLocal - -0.0004) < 5e-5)
        // Backward table: dz/d(1/·) = 4.982, dz/d(denominator) = −0.00199, dz/d(x+y)² = −0.00199,
        // dz/d(x+y) = −0.0279 on each branch, and at σ: 0.02·0.0177 + (−0.00199)·0.0177 = 0.00032.
        let numerator = x + s
        let upstreamDenominator = numerator * inverseLocal
        #expect(Swift.abs(upstreamDenominator - -0.00199) < 5e-5)
        let throughSigmoid = gradient(at: Tensor<Double>(s)) { sv in
            (Tensor(x) + sv) / (sv + Tensor(49))
        }.scalar
        #expect(Swift.abs(throughSigmoid * local - 0.00032) < 5e-6)
    }

    @Test func lecture001MaxRouting() {
        // f(x,y,z) = (x + y)·max(y, z) at (1, 2, 0): f = 6, ∇f = (2, 5, 0)
        let (value, g) = valueWithGradient(at: Tensor<Double>(1), Tensor(2), Tensor(0)) { x, y, z in
            (x + y) * max(y, z)
        }
        #expect(value.scalar == 6)
        #expect(g.0.scalar == 2 && g.1.scalar == 5 && g.2.scalar == 0)
    }

    @Test func lecture003LinearCombination() {
        // L(a,b,c) = c·(a + 2b) at (3, 1, −2): L = −10, ∇L = (−2, −4, 5)
        let (value, g) = valueWithGradient(at: Tensor<Double>(3), Tensor(1), Tensor(-2)) { a, b, c in
            c * (a + 2 * b)
        }
        #expect(value.scalar == -10)
        #expect(g.0.scalar == -2 && g.1.scalar == -4 && g.2.scalar == 5)
    }

    @Test(arguments: [(1.0, 2.0), (-3.0, 0.5), (0.0, 0.0), (2.5, -7.0)])
    func lecture000ProductOfSums(a: Double, b: Double) {
        // e = (a + b)(b + 1): ∂e/∂a = b + 1, ∂e/∂b = a + 2b + 1
        let g = gradient(at: Tensor(a), Tensor(b)) { a, b in (a + b) * (b + 1) }
        #expect(g.0.scalar == b + 1)
        #expect(g.1.scalar == a + 2 * b + 1)
    }

    @Test(arguments: [(1.0, 2.0, 0.5), (-1.5, 3.0, 2.0), (0.3, -0.7, -1.2)])
    func lecture000PolynomialAndCosine(x1: Double, x2: Double, x3: Double) {
        // f = x₁²x₂ + cos(x₃): ∇f = (2x₁x₂, x₁², −sin x₃)
        let g = gradient(at: Tensor(x1), Tensor(x2), Tensor(x3)) { a, b, c in a * a * b + cos(c) }
        #expect(close(g.0.scalar, 2 * x1 * x2))
        #expect(close(g.1.scalar, x1 * x1))
        #expect(close(g.2.scalar, -Double.sin(x3)))
    }

    @Test(arguments: [0.5, -1.3, 2.0, 0.0])
    func lecture000ExpOfSine(x: Double) {
        // y = exp(sin(x²)): dy/dx = exp(sin(x²))·cos(x²)·2x
        let g = gradient(at: Tensor(x)) { x in exp(sin(x * x)) }
        #expect(close(g.scalar, Double.exp(Double.sin(x * x)) * Double.cos(x * x) * 2 * x))
    }

    @Test func lecture001NeuronScore() {
        // s = uᵀ f(Wx + b), f = sigmoid: ∂s/∂b = uᵀ ∘ f′(z) = δ, ∂s/∂W = δᵀ xᵀ (an outer product).
        let n = 4, m = 3
        let W = Tensor<Double>.randomNormal(shape: [n, m], seed: 1)
        let x = Tensor<Double>.randomNormal(shape: [m, 1], seed: 2)
        let b = Tensor<Double>.randomNormal(shape: [n, 1], seed: 3)
        let u = Tensor<Double>.randomNormal(shape: [n, 1], seed: 4)
        let (gW, gb) = gradient(at: W, b) { W, b in
            matmul(u.transposed(), sigmoid(matmul(W, x) + b)).sum()
        }
        let z = matmul(W, x) + b
        let fz = sigmoid(z)
        let delta = u * fz * (1 - fz)  // n×1
        #expect(gb.shape == [n, 1])
        for i in 0..<n { #expect(close(gb[index: i, 0], delta[index: i, 0], 1e-12)) }
        #expect(gW.shape == [n, m])
        for i in 0..<n {
            for j in 0..<m { #expect(close(gW[index: i, j], delta[index: i, 0] * x[index: j, 0], 1e-12)) }
        }
    }

    @Test func lecture000LogisticRegressionLoss() {
        // "In reality we work with deeply composed functions": the logistic-regression loss
        // L(w) = −Σₙ [yₙ log σ(wᵀxₙ) + (1 − yₙ) log(1 − σ(wᵀxₙ))], w = (w₀ … w_K) with a bias feature.
        let count = 8, features = 5
        let inputs = Tensor<Double>(
            concatenating: [Tensor.ones(shape: [count, 1]), Tensor.randomNormal(shape: [count, features - 1], seed: 7)],
            alongAxis: 1)
        let labels = (Tensor<Double>.randomUniform(shape: [count, 1], seed: 8) .> 0.5)
        let w = Tensor<Double>.randomNormal(shape: [features, 1], standardDeviation: 0.5, seed: 9)
        let result = checkGradient(at: w) { w in
            let p = sigmoid(matmul(inputs, w))
            return -(labels * log(p) + (1 - labels) * log(1 - p)).sum()
        }
        #expect(result.passes(tolerance: 1e-7), "\(result)")
    }
}
