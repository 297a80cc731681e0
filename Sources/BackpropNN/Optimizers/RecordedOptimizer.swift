// Rebuilding an optimizer from the entries its `configuration` wrote into a checkpoint, so that a resumed run
// updates with the hyper-parameters it was saved with. Every value is checked here, before it reaches an
// initializer's preconditions: a damaged or edited file gets a message, never a trap.

/// The metadata entries under which a classifier's or language model's checkpoint records its optimizer: each
/// entry of `configuration` (an `Optimizer.configuration`) under `optimizer.<key>`, the kind under
/// `optimizer.kind` (`optimizer` is the training configuration's own choice, which the optimizer may no longer
/// be: `trainer.optimizer = SGD(...)`). Read back by `recordedOptimizer(in:configuredKind:learningRate:)`.
func optimizerMetadata(_ configuration: [String: String]) -> [String: String] {
    Dictionary(uniqueKeysWithValues: configuration.map { ("optimizer." + ($0.key == "optimizer" ? "kind" : $0.key), $0.value) })
}

/// The optimizer a trainer's checkpoint metadata records (see `optimizerMetadata(_:)`), of `configuredKind`
/// when it records no kind (a checkpoint written before it did).
func recordedOptimizer<Scalar: TensorScalar>(
    in metadata: [String: String], configuredKind: String?, learningRate: Double, as _: Scalar.Type = Scalar.self
) throws -> any Optimizer<Scalar> {
    try makeOptimizer(
        recordedIn: metadata, keyPrefix: "optimizer.", kindKey: "kind", defaultKind: configuredKind,
        learningRate: learningRate, as: Scalar.self)
}

/// The optimizer that `Optimizer.configuration` described in a checkpoint's metadata, read from `entries`
/// under `keyPrefix` (`optimizer.beta1` for the prefix `optimizer.`): its kind (`sgd`, `adam`, `adamw` or
/// `rmsprop`) under `kindKey`, or `defaultKind` when that entry is absent, and its hyper-parameters. The step
/// size is `learningRate`, since a run's schedule, not its optimizer, decides it.
///
/// - Throws: `CheckpointError` naming the entry when the kind is unknown, or a hyper-parameter is missing,
///   not a number, or outside the optimizer's range.
public func makeOptimizer<Scalar: TensorScalar>(
    recordedIn entries: [String: String], keyPrefix: String = "", kindKey: String = "optimizer", defaultKind: String? = nil,
    learningRate: Double, as _: Scalar.Type = Scalar.self
) throws -> any Optimizer<Scalar> {
    guard learningRate > 0 && learningRate.isFinite else {
        throw CheckpointError("the learning rate must be a positive number, got \(learningRate)")
    }
    guard let kind = entries[keyPrefix + kindKey] ?? defaultKind else {
        throw CheckpointError("checkpoint metadata has no \(keyPrefix + kindKey) (the optimizer's kind)")
    }
    func number(_ key: String, _ range: String, _ accepts: (Double) -> Bool) throws -> Double {
        guard let text = entries[keyPrefix + key] else {
            throw CheckpointError("checkpoint metadata has no \(keyPrefix + key) (the \(kind) optimizer's hyper-parameter)")
        }
        guard let value = Double(text), value.isFinite, accepts(value) else {
            throw CheckpointError("checkpoint metadata \(keyPrefix + key) must be \(range), got '\(text.prefix(40))'")
        }
        return value
    }
    let nonNegative = "a finite number of at least 0", unitInterval = "a number in [0, 1)"
    switch kind {
    case "sgd":
        let momentum = try number("momentum", nonNegative) { $0 >= 0 }
        guard let text = entries[keyPrefix + "nesterov"] else {
            throw CheckpointError("checkpoint metadata has no \(keyPrefix)nesterov (the sgd optimizer's hyper-parameter)")
        }
        guard let nesterov = Bool(text), !nesterov || momentum > 0 else {
            throw CheckpointError(
                "checkpoint metadata \(keyPrefix)nesterov must be true (with a positive momentum) or false, got '\(text.prefix(40))'")
        }
        let weightDecay = try number("weight_decay", nonNegative) { $0 >= 0 }
        return SGD<Scalar>(learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
    case "adam", "adamw":
        let beta1 = try number("beta1", unitInterval) { (0..<1).contains($0) }
        let beta2 = try number("beta2", unitInterval) { (0..<1).contains($0) }
        let epsilon = try number("epsilon", "a finite number above 0") { $0 > 0 }
        let weightDecay = try number("weight_decay", nonNegative) { $0 >= 0 }
        return Adam<Scalar>(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
            decouplesWeightDecay: kind == "adamw")
    case "rmsprop":
        let rho = try number("rho", unitInterval) { (0..<1).contains($0) }
        let epsilon = try number("epsilon", "a finite number above 0") { $0 > 0 }
        let weightDecay = try number("weight_decay", nonNegative) { $0 >= 0 }
        return RMSProp<Scalar>(learningRate: learningRate, rho: rho, epsilon: epsilon, weightDecay: weightDecay)
    default:
        throw CheckpointError("checkpoint metadata \(keyPrefix + kindKey) must be one of sgd, adam, adamw, rmsprop, got '\(kind.prefix(40))'")
    }
}
