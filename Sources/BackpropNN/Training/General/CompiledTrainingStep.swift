// A Trainer's compiled step: the forward pass, the loss and the gradient traced together once per list of
// batch shapes (the model's parameters and the batch's tensors are the program's inputs) and replayed.
// What cannot be traced stays on the host around the call: the metrics and the finiteness checks read the
// returned loss and output, clipping and the optimizer's update run on the returned gradients.
import Backprop
import Foundation

/// The compiled loss and gradient of a `Trainer`'s model on a batch's tensors, with the random stream the
/// program's dropout masks are drawn from.
final class CompiledTrainingStep<Model: Layer>: @unchecked Sendable {
    typealias Scalar = Model.Scalar

    /// The stream the traced program draws from: set to the caller's context's state before each call and
    /// read back after it, so the masks are those the eager step would draw.
    private let context: ForwardContext
    private let lock = NSLock()
    /// (parameters, [loss scale] + batch tensors) → [loss, output] + gradients.
    private let function: (Model, [Tensor<Scalar>]) -> [Tensor<Scalar>]
    /// How many steps ran through the compiled program (for tests).
    private(set) var calls = 0

    init(
        _ evaluate: @escaping (Model, [Tensor<Scalar>], ForwardContext) -> (loss: Tensor<Scalar>, output: Tensor<Scalar>)
    ) {
        let context = ForwardContext(mode: .training)
        self.context = context
        function = compiled { (model: Model, inputs: [Tensor<Scalar>]) -> [Tensor<Scalar>] in
            let scale = inputs[0], tensors = Array(inputs.dropFirst())
            var output = Tensor<Scalar>(0)
            let (value, gradients) = valueWithGradient(at: model.parameters) { parameters in
                let result = evaluate(model.replacingParameters(with: parameters), tensors, context)
                output = result.output
                return result.loss * scale
            }
            return [value, output] + gradients
        }
    }

    /// The loss (times `lossScale`, when given), the gradients with respect to the model's parameters and the
    /// output, on a batch's tensors, drawing dropout masks from `outer`'s stream (which advances as it would
    /// in the eager step).
    func lossAndGradients(
        model: Model, tensors: [Tensor<Scalar>], context outer: ForwardContext, lossScale: Scalar?
    ) -> (Tensor<Scalar>, [Tensor<Scalar>], Tensor<Scalar>) {
        lock.withLock {
            calls += 1
            context.generator = outer.generator
            let results = function(model, [Tensor(lossScale ?? 1)] + tensors)
            outer.generator = context.generator
            return (results[0], Array(results.dropFirst(2)), results[1])
        }
    }
}
