import Backprop
import Foundation

// Workloads of issue #10 (speed for every tensor program): user-style code with broadcasting, reductions
// along chosen axes, batched and transposed products, float64, and a transformer block.

/// One pre-norm transformer block (batch 8, sequence 128, width 256, 4 heads, a 1024-wide ReLU MLP), float32.
final class BenchAttentionBlock {
    let batch = 8, sequence = 128, width = 256, heads = 4, hidden = 1024
    var parameters: [Tensor<Float>]
    let x: Tensor<Float>

    init() {
        var generator = SeededGenerator(seed: 11)
        x = Tensor.randomNormal(shape: [8, 128, 256], using: &generator)
        func weight(_ fanIn: Int, _ fanOut: Int) -> Tensor<Float> {
            Tensor.randomNormal(shape: [fanIn, fanOut], standardDeviation: Float(1 / Double(fanIn).squareRoot()), using: &generator)
        }
        // ln1 gain, ln1 bias, Wq, Wk, Wv, Wo, ln2 gain, ln2 bias, W1, b1, W2, b2
        parameters = [
            Tensor.ones(shape: [256]), Tensor.zeros(shape: [256]), weight(256, 256), weight(256, 256), weight(256, 256),
            weight(256, 256), Tensor.ones(shape: [256]), Tensor.zeros(shape: [256]), weight(256, 1024),
            Tensor.zeros(shape: [1024]), weight(1024, 256), Tensor.zeros(shape: [256]),
        ]
    }

    /// Layer normalisation over the last axis with a gain and a bias.
    func layerNorm(_ h: Tensor<Float>, _ gain: Tensor<Float>, _ bias: Tensor<Float>) -> Tensor<Float> {
        let mean = h.mean(alongAxes: [-1], keepingDimensions: true)
        let centered = h - mean
        let variance = (centered * centered).mean(alongAxes: [-1], keepingDimensions: true)
        return centered / sqrt(variance + 1e-5) * gain + bias
    }

    func loss(_ p: [Tensor<Float>]) -> Tensor<Float> {
        let headWidth = width / heads
        let n = layerNorm(x, p[0], p[1])
        // [b, s, w] → [b, heads, s, headWidth]
        func split(_ t: Tensor<Float>) -> Tensor<Float> {
            t.reshaped(to: [batch, sequence, heads, headWidth]).transposed(permutation: [0, 2, 1, 3])
        }
        let q = split(matmul(n, p[2])), k = split(matmul(n, p[3])), v = split(matmul(n, p[4]))
        let scores = matmul(q, k, transposeB: true) / Float(Double(headWidth).squareRoot())
        let attended = matmul(scores.softmax(alongAxis: -1), v)
            .transposed(permutation: [0, 2, 1, 3]).reshaped(to: [batch, sequence, width])
        let h = x + matmul(attended, p[5])
        let m = layerNorm(h, p[6], p[7])
        let out = h + matmul(relu(matmul(m, p[8]) + p[9]), p[10]) + p[11]
        return out.mean()
    }
}

/// The workloads of issue #10 by name.
func generalWorkloads() -> [String: BenchWorkload] {
    var all: [String: BenchWorkload] = [:]
    all["broadcast-f64"] = BenchWorkload(
        name: "broadcast-f64", runs: 10, warmUp: 2,
        prepare: {
            let x = Tensor<Double>.randomNormal(shape: [1, 1000, 64], seed: 1)
            let mu = Tensor<Double>.randomNormal(shape: [100, 1, 64], seed: 2)
            return {
                let g = gradient(at: mu) { mu in
                    let d = x - mu
                    return log(exp(-(d * d)).sum(alongAxes: 2)).sum()
                }
                return g[index: 3, 0, 5]
            }
        },
        check: { last in
            // ∂/∂mu[3,0,5] = Σ_n 2 (x[n,5] − mu[3,5]) exp(−(x−mu)²[n,5]) / Σ_j exp(−(x−mu)²[n,j]), in plain loops.
            let x = Tensor<Double>.randomNormal(shape: [1, 1000, 64], seed: 1).scalars
            let mu = Tensor<Double>.randomNormal(shape: [100, 1, 64], seed: 2).scalars
            var exact = 0.0
            for n in 0..<1000 {
                var total = 0.0
                for j in 0..<64 { let d = x[n * 64 + j] - mu[3 * 64 + j]; total += Double.exp(-d * d) }
                let d = x[n * 64 + 5] - mu[3 * 64 + 5]
                exact += 2 * d * Double.exp(-d * d) / total
            }
            return (Swift.abs(last - exact) <= 1e-9 * Swift.max(1, Swift.abs(exact)), "∂L/∂mu[3,0,5] = \(last), by loops \(exact)")
        })
    all["elementary-f64"] = BenchWorkload(
        name: "elementary-f64", runs: 10, warmUp: 2,
        prepare: {
            let x = Tensor<Double>.randomUniform(shape: [1_000_000], lowerBound: 0.1, upperBound: 3, seed: 5)
            return { gradient(at: x) { elementaryChain($0) }[index: 12345] }
        },
        check: { last in checkElementaryChain(last, compileMilliseconds: nil) })
    all["batched-matmul-f64"] = BenchWorkload(
        name: "batched-matmul-f64", runs: 10, warmUp: 2,
        prepare: {
            let a = Tensor<Double>.randomNormal(shape: [100, 1000, 64], seed: 3)
            let b = Tensor<Double>.randomNormal(shape: [100, 64, 64], seed: 4)
            return {
                let (ga, gb) = gradient(at: a, b) { a, b in
                    let c = matmul(a, b, transposeB: true)
                    return (c * c).sum()
                }
                return ga[index: 7, 10, 3] + gb[index: 7, 2, 3]
            }
        },
        check: { last in
            // ∂/∂a = 2 C B, ∂/∂b = 2 Cᵀ A, for batch 7 in plain loops.
            let a = Tensor<Double>.randomNormal(shape: [100, 1000, 64], seed: 3).scalars
            let b = Tensor<Double>.randomNormal(shape: [100, 64, 64], seed: 4).scalars
            func c(_ i: Int, _ j: Int) -> Double {
                var total = 0.0
                for l in 0..<64 { total += a[7 * 64_000 + i * 64 + l] * b[7 * 4096 + j * 64 + l] }
                return total
            }
            var ga = 0.0, gb = 0.0
            for j in 0..<64 { ga += 2 * c(10, j) * b[7 * 4096 + j * 64 + 3] }
            for i in 0..<1000 { gb += 2 * c(i, 2) * a[7 * 64_000 + i * 64 + 3] }
            let exact = ga + gb
            return (Swift.abs(last - exact) <= 1e-9 * Swift.max(1, Swift.abs(exact)), "∂a[7,10,3] + ∂b[7,2,3] = \(last), by loops \(exact)")
        })
    all["attention-block"] = BenchWorkload(
        name: "attention-block", runs: 10, warmUp: 2,
        prepare: {
            let block = BenchAttentionBlock()
            return {
                let (value, g) = valueWithGradient(at: block.parameters) { block.loss($0) }
                return Double(value.scalar) + Double(g[2][index: 0, 0]) * 0
            }
        },
        check: { last in (last.isFinite, "mean output \(last)") })
    all["dgemm-1024"] = BenchWorkload(
        name: "dgemm-1024", runs: 10, warmUp: 2,
        prepare: {
            let a = Tensor<Double>.randomUniform(shape: [1024, 1024], seed: 1)
            let b = Tensor<Double>.randomUniform(shape: [1024, 1024], seed: 2)
            return { matmul(a, b)[index: 1023, 1023] }
        },
        check: { last in
            let a = Tensor<Double>.randomUniform(shape: [1024, 1024], seed: 1).scalars
            let b = Tensor<Double>.randomUniform(shape: [1024, 1024], seed: 2).scalars
            var exact = 0.0
            for k in 0..<1024 { exact += a[1023 * 1024 + k] * b[k * 1024 + 1023] }
            return (Swift.abs(last - exact) <= 1e-12 * exact, "C[1023,1023] = \(last), dot product \(exact)")
        })
    return all
}

/// Σ (sin x · log x + tanh x · cos x + tan(x / 4)), the function of `elementary-f64`: one pass of each
/// elementary function over a million values, and as many in its gradient.
func elementaryChain(_ x: Tensor<Double>) -> Tensor<Double> {
    (sin(x) * log(x) + tanh(x) * cos(x) + tan(x / 4)).sum()
}

/// Checks `elementary-f64`'s ∂/∂x[12345] against the derivative written out in a loop-free formula.
func checkElementaryChain(_ last: Double, compileMilliseconds: Double?) -> (Bool, String) {
    let v = Tensor<Double>.randomUniform(shape: [1_000_000], lowerBound: 0.1, upperBound: 3, seed: 5).scalars[12345]
    let t = Double.tanh(v), c = Double.cos(v / 4)
    let exact = Double.cos(v) * Double.log(v) + Double.sin(v) / v + (1 - t * t) * Double.cos(v) - t * Double.sin(v)
        + 1 / (4 * c * c)
    let compile = compileMilliseconds.map { "; trace and compile \($0) ms" } ?? ""
    return (Swift.abs(last - exact) <= 1e-12 * Swift.max(1, Swift.abs(exact)), "∂L/∂x[12345] = \(last), by formula \(exact)\(compile)")
}
