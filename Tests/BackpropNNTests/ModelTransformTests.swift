import Backprop
import BackpropNN
import Foundation
import Testing

private struct TwoLayer: Layer {
    var hidden = Linear<Double>(inputSize: 3, outputSize: 4, initialization: .glorot, seed: 1)
    var output = Linear<Double>(inputSize: 4, outputSize: 2, initialization: .glorot, seed: 2)
    func callAsFunction(_ x: Tensor<Double>, context: ForwardContext) -> Tensor<Double> { output(tanh(hidden(x))) }
}

private let x = Tensor<Double>.randomNormal(shape: [5, 3], seed: 3)
private let y = Tensor<Double>.randomNormal(shape: [5, 2], seed: 4)
private func loss(_ model: TwoLayer) -> Tensor<Double> { meanSquaredError(predicted: model(x), expected: y) }

@Suite struct ModelTransformTests {
    @Test func gradientComesBackAsAModelOfTheSameShape() {
        let model = TwoLayer()
        let (value, gradient) = valueWithGradient(at: model, of: loss)
        let (arrayValue, arrayGradients) = valueWithGradient(at: model.parameters) { loss(model.replacingParameters(with: $0)) }
        #expect(value == arrayValue)
        #expect(gradient.parameters == arrayGradients)
        #expect(gradient.hidden.weight.shape == [4, 3] && gradient.output.bias == arrayGradients[3])
        // Central differences on one weight.
        let h = 1e-6
        var plus = model, minus = model
        plus.hidden.weight = plus.hidden.weight + Tensor(shape: [4, 3], scalars: (0..<12).map { $0 == 5 ? h : 0 })
        minus.hidden.weight = minus.hidden.weight - Tensor(shape: [4, 3], scalars: (0..<12).map { $0 == 5 ? h : 0 })
        let numeric = (loss(plus).scalar - loss(minus).scalar) / (2 * h)
        #expect(abs(gradient.hidden.weight.scalars[5] - numeric) < 1e-7)
    }

    @Test func optimizerUpdatesTheModelInPlaceAndLeavesCopiesAlone() {
        var model = TwoLayer()
        let before = model
        var optimizer = Adam<Double>(learningRate: 0.01)
        var arrayOptimizer = Adam<Double>(learningRate: 0.01)
        var parameters = model.parameters
        for _ in 0..<20 {
            let gradient = gradient(at: model, of: loss)
            optimizer.update(&model, along: gradient)
            arrayOptimizer.update(&parameters, along: gradient.parameters)
        }
        #expect(model.parameters == parameters)
        #expect(before.parameters != model.parameters && loss(model).scalar < loss(before).scalar)
        #expect(before.hidden.weight == TwoLayer().hidden.weight)
    }

    @Test func backwardStyleAccumulatesUntilZeroGradients() {
        var model = TwoLayer().requiringGradients()
        #expect(model.parameters.allSatisfy { $0.requiresGradient })
        loss(model).backward()
        let once = model.accumulatedGradient
        #expect(once.parameters == gradient(at: TwoLayer(), of: loss).parameters)
        loss(model).backward()
        #expect(model.accumulatedGradient.hidden.weight == once.hidden.weight * 2)
        model.zeroGradients()
        #expect(model.hidden.weight.grad == nil && model.accumulatedGradient.output.bias == Tensor.zeros(shape: [2]))

        // Thirty steps in this style are thirty steps of the functional style.
        var optimizer = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        var functional = TwoLayer()
        var functionalOptimizer = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        for _ in 0..<30 {
            model.zeroGradients()
            loss(model).backward()
            optimizer.update(&model)
            functionalOptimizer.update(&functional, along: gradient(at: functional, of: loss))
        }
        #expect(zip(model.parameters, functional.parameters).allSatisfy { zip($0.scalars, $1.scalars).allSatisfy { abs($0 - $1) < 1e-12 } })
        #expect(loss(model).scalar < loss(TwoLayer()).scalar * 0.6)
        #expect(model.parameters.allSatisfy { $0.requiresGradient })
    }

    @Test func hessianVectorProductOverTheParametersMatchesDifferencesOfGradients() {
        let model = TwoLayer()
        let direction = model.replacingParameters(with: model.parameters.enumerated().map {
            Tensor<Double>.randomNormal(shape: $1.shape, seed: UInt64(10 + $0))
        })
        let product = hessianVectorProduct(at: model, along: direction, of: loss)
        let h = 1e-5
        let plus = gradient(at: model.replacingParameters(with: zip(model.parameters, direction.parameters).map { $0 + h * $1 }), of: loss)
        let minus = gradient(at: model.replacingParameters(with: zip(model.parameters, direction.parameters).map { $0 - h * $1 }), of: loss)
        for (exact, (p, m)) in zip(product.parameters, zip(plus.parameters, minus.parameters)) {
            let numeric = (p - m) / (2 * h)
            #expect(zip(exact.scalars, numeric.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
        }
    }
}
