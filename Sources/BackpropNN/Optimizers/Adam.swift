import CBackpropKernels

/// Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), as PyTorch's `torch.optim.Adam` / `AdamW`:
///
///     m ← β₁m + (1−β₁)g;   v ← β₂v + (1−β₂)g²;   θ ← θ − η·m̂ / (√v̂ + ε)
///
/// with bias-corrected m̂ = m / (1−β₁ᵗ), v̂ = v / (1−β₂ᵗ). Weight decay is added to the gradient (Adam)
/// or applied directly as θ ← θ − ηλθ (AdamW, `decouplesWeightDecay`).
public struct Adam<Scalar: TensorScalar>: Optimizer {
    /// η.
    public var learningRate: Double
    /// β₁, the decay of the first-moment estimate.
    public var beta1: Double
    /// β₂, the decay of the second-moment estimate.
    public var beta2: Double
    /// ε, added to the denominator.
    public var epsilon: Double
    /// λ.
    public var weightDecay: Double
    /// Whether weight decay is decoupled from the gradient (AdamW) rather than added to it (Adam).
    public var decouplesWeightDecay: Bool
    /// The moment estimates (`"m"`, `"v"`) and step count.
    public var state = OptimizerState<Scalar>()

    /// Creates Adam (or AdamW when `decouplesWeightDecay`), with PyTorch's defaults.
    ///
    /// - Precondition: `learningRate > 0`, betas in [0, 1), `epsilon > 0`, `weightDecay >= 0`.
    public init(
        learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
        weightDecay: Double = 0, decouplesWeightDecay: Bool = false
    ) {
        precondition(learningRate > 0 && epsilon > 0 && weightDecay >= 0, "Adam: rates must be positive")
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must lie in [0, 1)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decouplesWeightDecay = decouplesWeightDecay
    }

    /// AdamW with PyTorch's defaults (weight decay 0.01, decoupled).
    public static func adamW(learningRate: Double = 1e-3, weightDecay: Double = 0.01) -> Adam {
        Adam(learningRate: learningRate, weightDecay: weightDecay, decouplesWeightDecay: true)
    }

    /// `optimizer` (`adam` or `adamw`), `beta1`, `beta2`, `epsilon`, `weight_decay`.
    public var configuration: [String: String] {
        [
            "optimizer": decouplesWeightDecay ? "adamw" : "adam", "beta1": describeHyperparameter(beta1),
            "beta2": describeHyperparameter(beta2), "epsilon": describeHyperparameter(epsilon),
            "weight_decay": describeHyperparameter(weightDecay),
        ]
    }

    /// One Adam step.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>]) {
        checkUpdateShapes("Adam", parameters, gradients)
        state.step += 1
        var ms = state.buffers("m", like: parameters)
        var vs = state.buffers("v", like: parameters)
        let t = Double(state.step)
        let correction1 = 1 - Double.pow(beta1, t), correction2 = 1 - Double.pow(beta2, t)
        // θ −= η/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε), PyTorch's arrangement of the bias corrections.
        let stepSize = Scalar(learningRate / correction1)
        let inverseRoot2 = Scalar(1 / correction2.squareRoot())
        let b1 = Scalar(beta1), b2 = Scalar(beta2), eps = Scalar(epsilon)
        let decay = Scalar(weightDecay), decoupled = decouplesWeightDecay
        let shrink = Scalar(1 - learningRate * weightDecay)
        for index in parameters.indices {
            gradients[index].withUnsafeScalars { g in
                parameters[index].withUnsafeMutableScalars { p in
                    ms[index].withUnsafeMutableScalars { m in
                        vs[index].withUnsafeMutableScalars { v in
                            // One branch-free pass in the C kernels (vectorised): the scalar Swift loop
                            // was 4.7% of a CNN training step.
                            let (keep, couple) = decoupled ? (shrink, Scalar(0)) : (Scalar(1), decay)
                            guard p.count > 0 else { return }
                            adamUpdate(
                                p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!, count: p.count,
                                b1: b1, b2: b2, stepSize: stepSize, inverseRoot2: inverseRoot2, eps: eps,
                                keep: keep, couple: couple)
                        }
                    }
                }
            }
        }
        state.slots["m"] = ms
        state.slots["v"] = vs
    }
}

/// Adam's update of `count` parameters in place through the C kernel for Float or Double (see
/// `bp_sadam_update`), or a plain loop for other scalar types.
private func adamUpdate<Scalar: TensorScalar>(
    _ p: UnsafeMutablePointer<Scalar>, _ g: UnsafePointer<Scalar>, _ m: UnsafeMutablePointer<Scalar>,
    _ v: UnsafeMutablePointer<Scalar>, count: Int, b1: Scalar, b2: Scalar, stepSize: Scalar, inverseRoot2: Scalar,
    eps: Scalar, keep: Scalar, couple: Scalar
) {
    func cast<T>(_ pointer: UnsafeMutablePointer<Scalar>, _: T.Type) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: T.self)
    }
    if Scalar.self == Float.self {
        bp_sadam_update(
            cast(p, Float.self), UnsafeRawPointer(g).assumingMemoryBound(to: Float.self), cast(m, Float.self),
            cast(v, Float.self), count, Float(b1), Float(b2), Float(stepSize), Float(inverseRoot2), Float(eps),
            Float(keep), Float(couple))
    } else if Scalar.self == Double.self {
        bp_dadam_update(
            cast(p, Double.self), UnsafeRawPointer(g).assumingMemoryBound(to: Double.self), cast(m, Double.self),
            cast(v, Double.self), count, Double(b1), Double(b2), Double(stepSize), Double(inverseRoot2),
            Double(eps), Double(keep), Double(couple))
    } else {
        for i in 0..<count {
            let gi = g[i] + couple * p[i]
            let mi = b1 * m[i] + (1 - b1) * gi
            let vi = b2 * v[i] + (1 - b2) * gi * gi
            m[i] = mi
            v[i] = vi
            p[i] = keep * p[i] - stepSize * mi / (vi.squareRoot() * inverseRoot2 + eps)
        }
    }
}
