/// A rule that updates parameters from their gradients, step by step.
///
/// Optimizers work on the parameter list of a `Layer` (`model.parameters`), in its order. Their buffers
/// (momentum, moment estimates) and step count are exposed as `state`, so a checkpoint can save them and
/// a resumed run continues exactly where it stopped.
public protocol Optimizer<Scalar> {
    /// The scalar type of the parameters.
    associatedtype Scalar: TensorScalar

    /// The step size of the next update (a schedule may change it between steps).
    var learningRate: Double { get set }

    /// The buffers and step count carried from one update to the next.
    var state: OptimizerState<Scalar> { get set }

    /// The optimizer's name and hyper-parameters as text (for checkpoint metadata and logs),
    /// for example `["optimizer": "adam", "beta1": "0.9", ...]`.
    var configuration: [String: String] { get }

    /// Updates `parameters` in place along their `gradients` (one per parameter, the same shapes).
    mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>])
}

/// The buffers an optimizer keeps between updates, and how many updates it has made.
public struct OptimizerState<Scalar: TensorScalar>: Sendable {
    /// The number of updates made so far.
    public var step: Int
    /// Each named buffer (for example `"m"` and `"v"` for Adam) holds one tensor per parameter, in
    /// parameter order; empty until the first update.
    public var slots: [String: [Tensor<Scalar>]]

    /// Creates a state.
    public init(step: Int = 0, slots: [String: [Tensor<Scalar>]] = [:]) {
        self.step = step
        self.slots = slots
    }

    /// The buffers of slot `name`, created as zeros shaped like `parameters` on first use.
    mutating func buffers(_ name: String, like parameters: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        if let existing = slots[name], existing.count == parameters.count,
            zip(existing, parameters).allSatisfy({ $0.shape == $1.shape })
        {
            return existing
        }
        let fresh = parameters.map { Tensor<Scalar>.zeros(shape: $0.shape) }
        slots[name] = fresh
        return fresh
    }
}

/// Checks that an optimizer got one gradient of the right shape per parameter.
func checkUpdateShapes<Scalar>(_ name: String, _ parameters: [Tensor<Scalar>], _ gradients: [Tensor<Scalar>]) {
    precondition(
        parameters.count == gradients.count,
        "\(name).update: \(parameters.count) parameters but \(gradients.count) gradients")
    for (p, g) in zip(parameters, gradients) {
        precondition(p.shape == g.shape, "\(name).update: parameter shape \(p.shape) but gradient shape \(g.shape)")
    }
}

/// Formats a hyper-parameter for `configuration` so that it reads back exactly.
func describeHyperparameter(_ value: Double) -> String { "\(value)" }
