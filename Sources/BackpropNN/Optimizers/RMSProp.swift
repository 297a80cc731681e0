/// RMSProp (Hinton), as PyTorch's `torch.optim.RMSprop` without centring or momentum:
///
///     s ← ρs + (1−ρ)g²;   θ ← θ − η·g / (√s + ε)
public struct RMSProp<Scalar: TensorScalar>: Optimizer {
    /// η.
    public var learningRate: Double
    /// ρ, the decay of the running mean of squared gradients.
    public var rho: Double
    /// ε, added to the denominator.
    public var epsilon: Double
    /// λ, added to the gradient as λθ.
    public var weightDecay: Double
    /// The running means (`"square_average"`) and step count.
    public var state = OptimizerState<Scalar>()

    /// Creates the optimizer with PyTorch's defaults (ρ = 0.99, ε = 1e-8).
    ///
    /// - Precondition: `learningRate > 0`, ρ in [0, 1), `epsilon > 0`, `weightDecay >= 0`.
    public init(learningRate: Double = 1e-2, rho: Double = 0.99, epsilon: Double = 1e-8, weightDecay: Double = 0) {
        precondition(learningRate > 0 && epsilon > 0 && weightDecay >= 0, "RMSProp: rates must be positive")
        precondition((0..<1).contains(rho), "RMSProp: rho must lie in [0, 1)")
        self.learningRate = learningRate
        self.rho = rho
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// `optimizer`, `rho`, `epsilon`, `weight_decay`.
    public var configuration: [String: String] {
        [
            "optimizer": "rmsprop", "rho": describeHyperparameter(rho),
            "epsilon": describeHyperparameter(epsilon), "weight_decay": describeHyperparameter(weightDecay),
        ]
    }

    /// One RMSProp step.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>]) {
        checkUpdateShapes("RMSProp", parameters, gradients)
        state.step += 1
        var squares = state.buffers("square_average", like: parameters)
        let eta = Scalar(learningRate), r = Scalar(rho), eps = Scalar(epsilon), decay = Scalar(weightDecay)
        for index in parameters.indices {
            gradients[index].withUnsafeScalars { g in
                parameters[index].withUnsafeMutableScalars { p in
                    squares[index].withUnsafeMutableScalars { s in
                        for i in 0..<p.count {
                            let gi = g[i] + decay * p[i]
                            s[i] = r * s[i] + (1 - r) * gi * gi
                            p[i] -= eta * gi / (s[i].squareRoot() + eps)
                        }
                    }
                }
            }
        }
        state.slots["square_average"] = squares
    }
}
