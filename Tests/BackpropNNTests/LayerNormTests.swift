import Backprop
import BackpropNN
import Testing

/// `LayerNorm` against a hand computation, and its first, second and third derivatives against finite
/// differences.
@Suite struct LayerNormTests {
    let x = Tensor<Double>.randomNormal(shape: [2, 3, 4], mean: 0.5, standardDeviation: 2, seed: 31)
    let weight = Tensor<Double>.randomUniform(shape: [4], lowerBound: 0.5, upperBound: 1.5, seed: 32)
    let bias = Tensor<Double>.randomUniform(shape: [4], lowerBound: -1, upperBound: 1, seed: 33)

    /// The largest relative error between two tensors of one shape.
    func error(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        #expect(a.shape == b.shape)
        return zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($0), Swift.abs($1)) }.max() ?? 0
    }

    /// A nonlinear scalar loss of the layer's output, so that every second derivative is non-trivial.
    func loss(_ y: Tensor<Double>) -> Tensor<Double> {
        let weights = Tensor<Double>.randomUniform(shape: y.shape, lowerBound: -1, upperBound: 1, seed: 99)
        return (sin(y) * weights).sum()
    }

    @Test func defaultsMatchPyTorch() {
        let layer = LayerNorm<Float>(size: 5)
        #expect(layer.size == 5 && layer.epsilon == 1e-5)
        #expect(layer.parameterNames == ["weight", "bias"])
        #expect(layer.weight == Tensor.ones(shape: [5]) && layer.bias == Tensor.zeros(shape: [5]))
        #expect(layer.parameterCount == 10)
        let plain = LayerNorm<Float>(size: 5, elementwiseAffine: false)
        #expect(plain.parameterNames.isEmpty && plain.parameters.isEmpty)
        let scaleOnly = LayerNorm<Double>(weight: weight, bias: nil, epsilon: 1e-3)
        #expect(scaleOnly.parameterNames == ["weight"] && scaleOnly.size == 4 && scaleOnly.epsilon == 1e-3)
        let stack = Sequential<Double>(Linear<Double>(inputSize: 3, outputSize: 4, seed: 1), LayerNorm<Double>(size: 4))
        #expect(stack.parameterNames == ["0.weight", "0.bias", "1.weight", "1.bias"])
    }

    @Test func parametersRoundTrip() {
        var layer = LayerNorm<Double>(size: 4)
        layer.parameters = [weight, bias]
        #expect(layer.weight == weight && layer.bias == bias)
        var scaleOnly = LayerNorm<Double>(weight: Tensor.ones(shape: [4]), bias: nil)
        scaleOnly.parameters = [weight]
        #expect(scaleOnly.weight == weight && scaleOnly.bias == nil)
        var plain = LayerNorm<Double>(size: 4, elementwiseAffine: false)
        plain.parameters = []
        #expect(plain.weight == nil && plain.bias == nil)
    }

    @Test func normalisesEachRowThenAppliesTheAffineMap() {
        let epsilon = 1e-5
        let output = LayerNorm<Double>(weight: weight, bias: bias, epsilon: epsilon)(x)
        let plain = LayerNorm<Double>(size: 4, epsilon: epsilon, elementwiseAffine: false)(x)
        #expect(output.shape == x.shape && plain.shape == x.shape)
        let values = x.scalars, w = weight.scalars, b = bias.scalars
        for row in 0..<6 {
            let slice = Array(values[(row * 4)..<(row * 4 + 4)])
            let mean = slice.reduce(0, +) / 4
            let variance = slice.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
            let normalized = slice.map { ($0 - mean) / (variance + epsilon).squareRoot() }
            let y = plain.scalars[(row * 4)..<(row * 4 + 4)], z = output.scalars[(row * 4)..<(row * 4 + 4)]
            // Mean 0 and (biased) variance 1, up to the epsilon.
            #expect(Swift.abs(y.reduce(0, +) / 4) < 1e-12)
            #expect(Swift.abs(y.map { $0 * $0 }.reduce(0, +) / 4 - variance / (variance + epsilon)) < 1e-12)
            for k in 0..<4 {
                #expect(Swift.abs(y[y.startIndex + k] - normalized[k]) < 1e-12, "row \(row), feature \(k)")
                #expect(Swift.abs(z[z.startIndex + k] - (normalized[k] * w[k] + b[k])) < 1e-12, "row \(row), feature \(k)")
            }
        }
        // A fresh layer is the identity affine map, and Float agrees with Double.
        #expect(error(LayerNorm<Double>(size: 4)(x), plain) == 0)
        let single = LayerNorm<Float>(weight: weight.converted(), bias: bias.converted())(x.converted(to: Float.self))
        #expect(error(single.converted(to: Double.self), output) < 1e-5)
    }

    @Test func gradientsMatchFiniteDifferences() {
        let result = checkGradients(at: [x, weight, bias]) { p in
            loss(LayerNorm<Double>(weight: p[1], bias: p[2])(p[0]))
        }
        #expect(result.passes(tolerance: 1e-7), "\(result)")
        // The gradient with respect to the input of a normalisation sums to zero along each row.
        let dx = gradient(at: x) { x in loss(LayerNorm<Double>(size: 4, elementwiseAffine: false)(x)) }
        #expect(dx.sum(alongAxes: -1).scalars.allSatisfy { Swift.abs($0) < 1e-12 })
    }

    @Test func hessianMatchesFiniteDifferencesOfTheGradient() {
        let layer = LayerNorm<Double>(weight: weight, bias: bias)
        let input = x.slicing(0..<1, alongAxis: 0).slicing(0..<2, alongAxis: 1)  // [1, 2, 4]
        let f: (Tensor<Double>) -> Tensor<Double> = { loss(layer($0)) }
        let h = hessian(at: input, of: f)
        #expect(h.shape == [1, 2, 4, 1, 2, 4])
        // Column k of the Hessian by central differences of the gradient.
        let step = 1e-5
        let count = input.scalarCount
        var columns: [Tensor<Double>] = []
        for k in 0..<count {
            var e = [Double](repeating: 0, count: count)
            e[k] = step
            let shift = Tensor(shape: input.shape, scalars: e)
            let difference = (gradient(at: input + shift, of: f) - gradient(at: input - shift, of: f)) / (2 * step)
            columns.append(difference.reshaped(to: [count]))
        }
        let estimate = Tensor(stacking: columns, alongAxis: 1).reshaped(to: h.shape)
        #expect(error(h, estimate) < 1e-7)
        // The Hessian is symmetric.
        let square = h.reshaped(to: [count, count])
        #expect(error(square, square.transposed(permutation: [1, 0])) < 1e-12)
    }

    @Test func secondDerivativesWithRespectToParametersMatchFiniteDifferences() {
        // Hessian-vector products over (input, weight, bias) against central differences of the gradient.
        let objective: ([Tensor<Double>]) -> Tensor<Double> = { p in loss(LayerNorm<Double>(weight: p[1], bias: p[2])(p[0])) }
        let point = [x, weight, bias]
        let v = point.enumerated().map {
            Tensor<Double>.randomUniform(shape: $1.shape, lowerBound: -1, upperBound: 1, seed: 40 + UInt64($0))
        }
        let hv = hessianVectorProduct(at: point, along: v, of: objective)
        let step = 1e-5
        let plus = gradient(at: zip(point, v).map { $0 + step * $1 }, of: objective)
        let minus = gradient(at: zip(point, v).map { $0 - step * $1 }, of: objective)
        for i in 0..<3 {
            #expect(error(hv[i], (plus[i] - minus[i]) / (2 * step)) < 1e-7, "argument \(i)")
        }
    }

    @Test func thirdDerivativeAlongADirectionMatchesFiniteDifferences() {
        let layer = LayerNorm<Double>(weight: weight, bias: bias)
        let input = x.slicing(0..<1, alongAxis: 0)
        let v = Tensor<Double>.randomUniform(shape: input.shape, lowerBound: -1, upperBound: 1, seed: 50)
        let f: (Tensor<Double>) -> Tensor<Double> = { loss(layer($0)) }
        // vᵀ H(x) v, then its derivative along v by forward mode and by central differences.
        let second: (Tensor<Double>) -> Tensor<Double> = { x in jvp(at: x, along: v) { x in jvp(at: x, along: v, of: f) } }
        let thirdAD = jvp(at: input, along: v, of: second).scalar
        let step = 1e-4
        let thirdFD = (second(input + step * v).scalar - second(input - step * v).scalar) / (2 * step)
        #expect(Swift.abs(thirdAD - thirdFD) / Swift.max(1, Swift.abs(thirdAD)) < 1e-6)
        // Forward over reverse agrees with forward over forward.
        let hv = hessianVectorProduct(at: input, along: v, of: f)
        #expect(Swift.abs((hv * v).sum().scalar - second(input).scalar) < 1e-10)
    }
}
