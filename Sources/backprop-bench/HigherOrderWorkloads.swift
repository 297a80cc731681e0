import Backprop
import Foundation

// Workloads of issue #9 (beyond the first derivative): Hessian-vector products, Jacobians by both modes,
// checkpointing, and a second derivative of the chain.

extension BenchMLP {
    /// The gradient of the loss with respect to all six parameters (no update): the cost a Hessian-vector
    /// product is compared with.
    func gradientOnly() -> Double {
        let g = gradient(at: parameters) { loss($0) }
        return Double(g[0].withUnsafeScalars { $0[0] })
    }

    /// The Hessian-vector product of the loss with respect to all parameters along `direction`, by one
    /// forward sweep over the recorded gradient (forward-over-reverse).
    func hessianVectorProduct(along direction: [Tensor<Float>]) -> [Tensor<Float>] {
        Backprop.hessianVectorProduct(at: parameters, along: direction) { loss($0) }
    }

    /// The logits for one input row, with the parameters as constants.
    func logits(_ row: Tensor<Float>) -> Tensor<Float> {
        let p = parameters
        let h1 = relu(matmul(row, p[0]) + p[1])
        let h2 = relu(matmul(h1, p[2]) + p[3])
        return matmul(h2, p[4]) + p[5]
    }
}

/// A deep MLP for checkpointing: `depth` layers of width `width`, tanh, batch `batch`, float32.
final class BenchDeepMLP {
    let depth = 64, width = 1024, batch = 256, segment = 8
    var weights: [Tensor<Float>]
    let x: Tensor<Float>

    init() {
        var generator = SeededGenerator(seed: 3)
        x = Tensor.randomNormal(shape: [256, 1024], using: &generator)
        let (depth, width) = (self.depth, self.width)
        let scale = Float((1.0 / Double(width)).squareRoot())
        weights = (0..<depth).map { _ in Tensor.randomNormal(shape: [width, width], standardDeviation: scale, using: &generator) }
    }

    func layers(_ h: Tensor<Float>, _ w: ArraySlice<Tensor<Float>>) -> Tensor<Float> {
        w.reduce(h) { h, w in tanh(matmul(h, w)) }
    }

    /// One SGD step (lr 0.01) on the mean of the last layer's output, with or without checkpointing every
    /// `segment` layers.
    func step(checkpointing: Bool) -> Double {
        let (value, gradients) = valueWithGradient(at: weights) { w in
            var h = x
            if checkpointing {
                for start in stride(from: 0, to: depth, by: segment) {
                    h = checkpointed([h] + w[start..<(start + segment)]) { t in self.layers(t[0], t.dropFirst()) }
                }
            } else {
                h = layers(h, w[...])
            }
            return h.mean()
        }
        for i in weights.indices {
            gradients[i].withUnsafeScalars { g in
                weights[i].withUnsafeMutableScalars { p in for j in 0..<p.count { p[j] -= 0.01 * g[j] } }
            }
        }
        return Double(value.scalar)
    }
}

/// The chain function's second derivative d²v/dx², by reverse over reverse.
func chainSecondDerivativeWorkload(_ n: Int) -> BenchWorkload {
    BenchWorkload(
        name: "chain\(n)-d2", runs: 3, warmUp: 1,
        prepare: {
            {
                gradient(at: Tensor<Double>(0.5)) { x in
                    gradient(at: x) { x in
                        var v = x
                        for _ in 0..<n { v = v + 0.001 * sin(v) }
                        return v
                    }
                }.scalar
            }
        },
        check: { value in
            // v' = v + 0.001 sin v, d' = d (1 + 0.001 cos v), e' = e (1 + 0.001 cos v) − 0.001 d² sin v.
            var v = 0.5, d = 1.0, e = 0.0
            for _ in 0..<n {
                e = e * (1 + 0.001 * Double.cos(v)) - 0.001 * d * d * Double.sin(v)
                d *= 1 + 0.001 * Double.cos(v)
                v += 0.001 * Double.sin(v)
            }
            return (Swift.abs(value - e) <= 1e-9 * Swift.abs(e), "d²v/dx² = \(value) (closed form \(e))")
        })
}

/// The higher-order workloads by name.
func higherOrderWorkloads() -> [String: BenchWorkload] {
    var all: [String: BenchWorkload] = [:]
    all["mlp-grad"] = BenchWorkload(
        name: "mlp-grad", runs: 40, warmUp: 5, prepare: { BenchMLP().gradientOnly },
        check: { last in (last.isFinite, "∂loss/∂W1[0,0] = \(last)") })
    all["hvp-mlp"] = BenchWorkload(
        name: "hvp-mlp", runs: 20, warmUp: 3,
        prepare: {
            let mlp = BenchMLP()
            var generator = SeededGenerator(seed: 7)
            let v = mlp.parameters.map { Tensor<Float>.randomNormal(shape: $0.shape, using: &generator) }
            // Only the product is timed (as for the peers, whose timed call returns the arrays): one element
            // of it is read, and the check below looks at all of it.
            return { Double(mlp.hessianVectorProduct(along: v)[2][index: 0, 0]) }
        },
        check: { last in
            // A Hessian is symmetric: ⟨u, Hv⟩ = ⟨v, Hu⟩ for a second random direction u.
            let mlp = BenchMLP()
            var generator = SeededGenerator(seed: 7)
            let v = mlp.parameters.map { Tensor<Float>.randomNormal(shape: $0.shape, using: &generator) }
            let u = mlp.parameters.map { Tensor<Float>.randomNormal(shape: $0.shape, using: &generator) }
            func inner(_ a: [Tensor<Float>], _ b: [Tensor<Float>]) -> Double {
                zip(a, b).reduce(0.0) { $0 + Double(($1.0 * $1.1).sum().scalar) }
            }
            let hv = mlp.hessianVectorProduct(along: v)
            let uHv = inner(u, hv), vHu = inner(v, mlp.hessianVectorProduct(along: u)), vHv = inner(v, hv)
            // (Float32 central differences of the gradient swing by 2x with the step here, so the values
            // themselves are checked in float64 by the unit tests, primitive by primitive.)
            let symmetric = Swift.abs(uHv - vHu) <= 1e-4 * Swift.max(1, Swift.abs(uHv))
            // The timed runs computed the same product: their element agrees with this one's.
            let repeatable = Double(hv[2][index: 0, 0]) == last
            return (symmetric && repeatable && vHv.isFinite,
                    "⟨v, Hv⟩ = \(vHv); ⟨u, Hv⟩ = \(uHv), ⟨v, Hu⟩ = \(vHu); (Hv)[W2][0, 0] = \(last)")
        })
    for mode in [JacobianMode.reverse, .forward] {
        let name = mode == .reverse ? "jacobian-mlp-rev" : "jacobian-mlp-fwd"
        all[name] = BenchWorkload(
            name: name, runs: mode == .reverse ? 40 : 5, warmUp: mode == .reverse ? 5 : 1,
            prepare: {
                let mlp = BenchMLP()
                let row = mlp.x.slicing(0..<1, alongAxis: 0)
                return { Double(jacobian(at: row, mode: mode) { mlp.logits($0) }[index: 0, 3, 0, 5]) }
            },
            check: { last in
                let mlp = BenchMLP()
                let row = mlp.x.slicing(0..<1, alongAxis: 0)
                let other = jacobian(at: row, mode: mode == .reverse ? .forward : .reverse) { mlp.logits($0) }[index: 0, 3, 0, 5]
                return (Swift.abs(last - Double(other)) <= 1e-5 * Swift.max(1, Swift.abs(last)), "J[3, 5] = \(last), by the other mode \(other)")
            })
    }
    for checkpointing in [true, false] {
        let name = checkpointing ? "checkpoint-mlp" : "checkpoint-mlp-plain"
        // Run each variant in a process of its own: the peak resident memory printed is the process's. The
        // resident size after setup (the runtime and the 256 MB of weights) is the baseline; the peak above
        // it is the step's: 256 MB of gradients plus the activations kept for the backward pass.
        var baseline = 0.0
        all[name] = BenchWorkload(
            name: name, runs: 3, warmUp: 1,
            prepare: {
                let model = BenchDeepMLP()
                baseline = peakResidentMegabytes()
                return { model.step(checkpointing: checkpointing) }
            },
            check: { last in
                let step = peakResidentMegabytes() - baseline
                return (last.isFinite, String(
                    format: "mean output %.3g; step peak %.0f MB above setup, so activations ≈ %.0f MB beside 256 MB of gradients",
                    last, step, step - 256))
            })
    }
    all["chain100000-d2"] = chainSecondDerivativeWorkload(100_000)
    return all
}
