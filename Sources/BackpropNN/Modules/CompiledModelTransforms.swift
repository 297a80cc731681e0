// The compiled transform on models: the core's `compiled(_:)` on `[Tensor] -> [Tensor]`, with a model's
// parameters as the program's first inputs. A copy of the model with its parameters moved out (the
// template) is put back together around the traced parameters when a program is traced, so the function
// sees a model of its own type, as the other model transforms do.
import Backprop
import Foundation

/// `f` compiled, taking a model and a list of tensors (a batch, targets): the model's parameters and the
/// tensors are the compiled program's inputs, so later calls with new parameter values (after an optimizer
/// step) and new tensors of the same shapes replay the program traced by the first call.
///
/// ```swift
/// let predict = compiled { (m: Regressor, inputs: [Tensor<Float>]) in [m(inputs[0])] }
/// let outputs = predict(model, [x])[0]   // traced and compiled on the first call, replayed afterwards
/// ```
///
/// Everything about the model that is not a parameter (its buffers, such as `BatchNorm`'s running
/// statistics, its sizes and settings) is a constant of the program, read when it is traced. A call whose
/// model has other buffer values or other parameter shapes than the traced one traces again, so the answer
/// is always the eager one; a change to a setting that is not a tensor is not seen, so compile again after
/// one. As for `compiled(_:)`, `f` must be a function of its arguments' values: it must not update the
/// model's state (a `BatchNorm` in training mode updates its running statistics, so run those eagerly).
/// The compiled function can be differentiated with respect to the parameters by every transform, to any
/// order.
public func compiled<Model: Module>(
    _ f: @escaping (Model, [Tensor<Model.Scalar>]) -> [Tensor<Model.Scalar>]
) -> (Model, [Tensor<Model.Scalar>]) -> [Tensor<Model.Scalar>] {
    let function = CompiledModelFunction(f)
    return { model, inputs in function.call(model, inputs) }
}

/// The value of `f` and its gradient with respect to the model's parameters, compiled: the forward and
/// backward sweeps are traced together once per list of shapes and replayed afterwards. The gradient is a
/// model of the same type, as `valueWithGradient(at:of:)` on a model returns, ready for
/// `optimizer.update(&model, along: gradient)`.
///
/// ```swift
/// let step = compiledValueWithGradient { (m: Regressor, batch: [Tensor<Float>]) in
///     meanSquaredError(predicted: m(batch[0]), expected: batch[1])
/// }
/// let (loss, gradient) = step(model, [x, y])
/// optimizer.update(&model, along: gradient)
/// ```
///
/// `f` must return a one-element tensor; what `compiled(_:)` on a model says about buffers and settings
/// holds here too.
public func compiledValueWithGradient<Model: Module>(
    of f: @escaping (Model, [Tensor<Model.Scalar>]) -> Tensor<Model.Scalar>
) -> (Model, [Tensor<Model.Scalar>]) -> (value: Tensor<Model.Scalar>, gradient: Model) {
    let program = compiled { (model: Model, inputs: [Tensor<Model.Scalar>]) -> [Tensor<Model.Scalar>] in
        let (value, gradient) = valueWithGradient(at: model) { f($0, inputs) }
        return [value] + gradient.parameters
    }
    return { model, inputs in
        let results = program(model, inputs)
        return (results[0], model.replacingParameters(with: Array(results.dropFirst())))
    }
}

/// A compiled function of a model and tensors: the core compiled function of (parameters + tensors) for the
/// model's parameter shapes and buffer values last seen, with the model they were seen in.
final class CompiledModelFunction<Model: Module>: @unchecked Sendable {
    typealias Scalar = Model.Scalar

    /// What a compiled function was made for (the model's parameter shapes and buffer values) and the core
    /// compiled function, which holds the model without its parameters.
    private struct Entry {
        var parameterShapes: [[Int]]
        var buffers: [Tensor<Scalar>]
        var function: ([Tensor<Scalar>]) -> [Tensor<Scalar>]
    }

    private let f: (Model, [Tensor<Scalar>]) -> [Tensor<Scalar>]
    private let lock = NSLock()
    private var entry: Entry?

    init(_ f: @escaping (Model, [Tensor<Scalar>]) -> [Tensor<Scalar>]) { self.f = f }

    func call(_ model: Model, _ inputs: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        let parameters = model.parameters
        let function = lock.withLock { self.function(for: model, parameters: parameters) }
        return function(parameters + inputs)
    }

    /// The core compiled function for `model`: the last one if the parameter shapes and buffer values are
    /// those it was made for, else a new one (whose first call traces).
    private func function(for model: Model, parameters: [Tensor<Scalar>]) -> ([Tensor<Scalar>]) -> [Tensor<Scalar>] {
        let shapes = parameters.map { $0.shape }   // a key path literal here is instantiated on every call
        let buffers = model.buffers
        if let entry, entry.parameterShapes == shapes, entry.buffers == buffers { return entry.function }
        var template = model
        _ = template.takeParameters()   // the template holds no parameter storage: in-place updates stay in place
        let count = parameters.count
        let f = self.f
        let function = compiled { (arguments: [Tensor<Scalar>]) -> [Tensor<Scalar>] in
            var model = template
            model.restoreParameters(Array(arguments[..<count]))
            return f(model, Array(arguments[count...]))
        }
        entry = Entry(parameterShapes: shapes, buffers: buffers, function: function)
        return function
    }
}
