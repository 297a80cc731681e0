/// How the learning rate changes over epochs.
public enum LearningRateSchedule: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// The rate multiplied by `factor` every `epochs` epochs (PyTorch's `StepLR`).
    case step(epochs: Int, factor: Double)
    /// The rate multiplied by `factor` every epoch (PyTorch's `ExponentialLR`).
    case exponential(factor: Double)
    /// Cosine annealing from the base rate down to `minimum` over `epochs` epochs (PyTorch's
    /// `CosineAnnealingLR`), then held at `minimum`.
    case cosine(epochs: Int, minimum: Double)

    /// The learning rate for `epoch` (0 for the first), starting from `base`.
    public func learningRate(base: Double, epoch: Int) -> Double {
        switch self {
        case .constant:
            return base
        case .step(let epochs, let factor):
            return base * Double.pow(factor, Double(epoch / Swift.max(epochs, 1)))
        case .exponential(let factor):
            return base * Double.pow(factor, Double(epoch))
        case .cosine(let epochs, let minimum):
            let progress = Swift.min(Double(epoch) / Double(Swift.max(epochs, 1)), 1)
            return minimum + (base - minimum) * (1 + Double.cos(Double.pi * progress)) / 2
        }
    }

    /// Parses a schedule from text: `constant`, `step:EPOCHS:FACTOR`, `exponential:FACTOR`,
    /// `cosine` (over `totalEpochs`, down to 0) or `cosine:MINIMUM`. Returns nil for anything else.
    public init?(parsing text: String, totalEpochs: Int) {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "constant" where parts.count == 1:
            self = .constant
        case "step" where parts.count == 3:
            guard let epochs = Int(parts[1]), epochs > 0, let factor = Double(parts[2]), factor > 0 else { return nil }
            self = .step(epochs: epochs, factor: factor)
        case "exponential" where parts.count == 2:
            guard let factor = Double(parts[1]), factor > 0 else { return nil }
            self = .exponential(factor: factor)
        case "cosine" where parts.count <= 2:
            let minimum = parts.count == 2 ? Double(parts[1]) : 0
            guard let minimum, minimum >= 0 else { return nil }
            self = .cosine(epochs: totalEpochs, minimum: minimum)
        default:
            return nil
        }
    }

    /// The schedule as text that `init(parsing:totalEpochs:)` reads back.
    public var textDescription: String {
        switch self {
        case .constant: return "constant"
        case .step(let epochs, let factor): return "step:\(epochs):\(factor)"
        case .exponential(let factor): return "exponential:\(factor)"
        case .cosine(_, let minimum): return minimum == 0 ? "cosine" : "cosine:\(minimum)"
        }
    }
}
