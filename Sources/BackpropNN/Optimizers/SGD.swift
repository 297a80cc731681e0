/// Stochastic gradient descent, lecture 000's update θ ← θ − η·∇L, with optional momentum, Nesterov
/// momentum and (coupled, L2-style) weight decay, following PyTorch's `torch.optim.SGD`:
///
///     g ← ∇L + λθ;   v ← μv + g;   θ ← θ − η·(nesterov ? g + μv : v)
public struct SGD<Scalar: TensorScalar>: Optimizer {
    /// η.
    public var learningRate: Double
    /// μ, 0 for plain gradient descent.
    public var momentum: Double
    /// Whether to use Nesterov's look-ahead form of momentum.
    public var nesterov: Bool
    /// λ, added to the gradient as λθ.
    public var weightDecay: Double
    /// The momentum buffers (`"velocity"`) and step count.
    public var state = OptimizerState<Scalar>()

    /// Creates the optimizer.
    ///
    /// - Precondition: `learningRate > 0`, `momentum >= 0`, `weightDecay >= 0`, and momentum is positive
    ///   when `nesterov` is set.
    public init(learningRate: Double, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        precondition(learningRate > 0 && momentum >= 0 && weightDecay >= 0, "SGD: rates must be positive")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// `optimizer`, `momentum`, `nesterov` and `weight_decay`.
    public var configuration: [String: String] {
        [
            "optimizer": "sgd", "momentum": describeHyperparameter(momentum), "nesterov": "\(nesterov)",
            "weight_decay": describeHyperparameter(weightDecay),
        ]
    }

    /// One SGD step.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>]) {
        checkUpdateShapes("SGD", parameters, gradients)
        state.step += 1
        let eta = Scalar(learningRate), mu = Scalar(momentum), decay = Scalar(weightDecay)
        var velocities = momentum > 0 ? state.buffers("velocity", like: parameters) : []
        for index in parameters.indices {
            gradients[index].withUnsafeScalars { g in
                parameters[index].withUnsafeMutableScalars { p in
                    if momentum == 0 {
                        for i in 0..<p.count { p[i] -= eta * (g[i] + decay * p[i]) }
                        return
                    }
                    velocities[index].withUnsafeMutableScalars { v in
                        for i in 0..<p.count {
                            let gi = g[i] + decay * p[i]
                            v[i] = mu * v[i] + gi
                            p[i] -= eta * (nesterov ? gi + mu * v[i] : v[i])
                        }
                    }
                }
            }
        }
        if momentum > 0 { state.slots["velocity"] = velocities }
    }
}
