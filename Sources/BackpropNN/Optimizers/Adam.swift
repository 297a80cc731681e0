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
        // One branch-free pass per tensor in the core's kernel (vectorised): the scalar Swift loop was 4.7%
        // of a CNN training step.
        let (keep, couple) = decoupled ? (shrink, Scalar(0)) : (Scalar(1), decay)
        for index in parameters.indices {
            adamUpdate(
                &parameters[index], gradient: gradients[index], m: &ms[index], v: &vs[index], b1: b1, b2: b2,
                stepSize: stepSize, inverseRoot2: inverseRoot2, eps: eps, keep: keep, couple: couple)
        }
        state.slots["m"] = ms
        state.slots["v"] = vs
    }
}
