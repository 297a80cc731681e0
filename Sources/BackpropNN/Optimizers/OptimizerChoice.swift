/// The optimizers available by name (for configuration files, checkpoints and the CLI).
public enum OptimizerChoice: String, Sendable, CaseIterable {
    /// Plain stochastic gradient descent.
    case sgd
    /// SGD with momentum 0.9.
    case momentum
    /// SGD with Nesterov momentum 0.9.
    case nesterov
    /// Adam with PyTorch's defaults.
    case adam
    /// AdamW with weight decay 0.01.
    case adamw
    /// RMSProp with PyTorch's defaults.
    case rmsprop

    /// A fresh optimizer of this kind with the given step size.
    public func make<Scalar: TensorScalar>(learningRate: Double, as _: Scalar.Type = Scalar.self) -> any Optimizer<Scalar> {
        switch self {
        case .sgd: return SGD<Scalar>(learningRate: learningRate)
        case .momentum: return SGD<Scalar>(learningRate: learningRate, momentum: 0.9)
        case .nesterov: return SGD<Scalar>(learningRate: learningRate, momentum: 0.9, nesterov: true)
        case .adam: return Adam<Scalar>(learningRate: learningRate)
        case .adamw: return Adam<Scalar>.adamW(learningRate: learningRate)
        case .rmsprop: return RMSProp<Scalar>(learningRate: learningRate)
        }
    }
}
