import Backprop
import BackpropNN
import Testing

private struct Regressor: Layer {
    var hidden = Linear<Double>(inputSize: 3, outputSize: 8, initialization: .glorot, seed: 1)
    var output = Linear<Double>(inputSize: 8, outputSize: 2, initialization: .glorot, seed: 2)
    func callAsFunction(_ x: Tensor<Double>, context: ForwardContext) -> Tensor<Double> { output(tanh(hidden(x))) }
}

private struct Normalized: Layer {
    var norm = BatchNorm<Double>(channels: 3)
    var output = Linear<Double>(inputSize: 3, outputSize: 2, initialization: .glorot, seed: 5)
    func callAsFunction(_ x: Tensor<Double>, context: ForwardContext) -> Tensor<Double> {
        output(norm(x, context: context))
    }
}

private func loss(_ model: Regressor, _ batch: [Tensor<Double>]) -> Tensor<Double> {
    meanSquaredError(predicted: model(batch[0]), expected: batch[1])
}

private func batch(_ seed: UInt64, rows: Int = 6) -> [Tensor<Double>] {
    [Tensor.randomNormal(shape: [rows, 3], seed: seed), Tensor.randomNormal(shape: [rows, 2], seed: seed + 100)]
}

private func close(_ a: [Tensor<Double>], _ b: [Tensor<Double>], within tolerance: Double = 1e-12) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { a, b in
        a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }
}

/// The compiled transform takes models as the other transforms do: a compiled loss-and-gradient over a
/// model's parameters gives the eager `valueWithGradient(at: model)`, step after step of an optimizer.
@Suite struct CompiledModelTransformTests {
    @Test func compiledLossAndGradientIsTheEagerOneAlongATraining() {
        let step = compiledValueWithGradient(of: loss)
        var compiledModel = Regressor(), eagerModel = Regressor()
        var compiledOptimizer = Adam<Double>(learningRate: 0.01), eagerOptimizer = Adam<Double>(learningRate: 0.01)
        for k in 0..<12 {
            // Two batch sizes: a program per shape list, both replayed after their first call.
            let data = batch(UInt64(k % 4), rows: k % 2 == 0 ? 6 : 4)
            let (value, gradient) = step(compiledModel, data)
            let (eagerValue, eagerGradient) = valueWithGradient(at: eagerModel) { loss($0, data) }
            #expect(close([value], [eagerValue]), "step \(k): \(value.scalar) vs \(eagerValue.scalar)")
            #expect(close(gradient.parameters, eagerGradient.parameters), "step \(k)")
            #expect(gradient.hidden.weight.shape == [8, 3])
            compiledOptimizer.update(&compiledModel, along: gradient)
            eagerOptimizer.update(&eagerModel, along: eagerGradient)
        }
        #expect(close(compiledModel.parameters, eagerModel.parameters, within: 1e-10))
        #expect(compiledModel.parameters != Regressor().parameters)
    }

    @Test func compiledFunctionOfAModelDifferentiatesAsTheEagerOne() {
        let predict = compiled { (m: Regressor, inputs: [Tensor<Double>]) in [m(inputs[0]).squared().sum()] }
        let model = Regressor(), data = batch(7)
        #expect(close(predict(model, data), [model(data[0]).squared().sum()]))
        let throughCompiled = gradient(at: model) { predict($0, data)[0] }
        let eager = gradient(at: model) { $0(data[0]).squared().sum() }
        #expect(close(throughCompiled.parameters, eager.parameters))
    }

    /// Buffers are constants of a compiled program: a model whose running statistics moved since the trace
    /// is traced again rather than given the old statistics' answer.
    @Test func buffersThatChangedAreTracedAgain() {
        let predict = compiled { (m: Normalized, inputs: [Tensor<Double>]) in [m(inputs[0])] }
        var model = Normalized()
        let x = Tensor<Double>.randomNormal(shape: [5, 3], seed: 11)
        #expect(close(predict(model, [x]), [model(x)]))
        // A training pass moves the running statistics (eagerly); evaluation then uses the new ones.
        _ = model(Tensor<Double>.randomNormal(shape: [16, 3], mean: 2, seed: 12), context: ForwardContext(mode: .training))
        #expect(close(predict(model, [x]), [model(x)]))
        model.buffers = model.buffers.map { $0 * 3 }
        #expect(close(predict(model, [x]), [model(x)]))
    }
}
