import Backprop
import BackpropNN
import Foundation
import Testing

// Models of the kinds a user writes: nothing beyond stored properties and the maths.

private struct Attention: Module {
    typealias Scalar = Float
    var query: Linear<Float>
    var key: Linear<Float>
    var value: Linear<Float>
}

/// A plain struct (not a module) inside a model: searched all the same.
private struct Block {
    var attention: Attention
    var norm: LayerNorm<Float>
    var feedForward: Sequential<Float>
}

private struct Encoder: Layer {
    var embedding: Embedding<Float>
    var blocks: [Block]
    var head: Linear<Float>?
    var unusedHead: Linear<Float>? = nil
    var adapters: [String: Linear<Float>]
    var pair: (first: Linear<Float>, second: Linear<Float>)
    var extra: any Layer<Float>
    @Buffer var scale: Tensor<Float>
    var statistics: BatchNorm<Float>
    var vocabulary: [String]
    var width: Int

    init(blockCount: Int, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        func linear(_ input: Int, _ output: Int) -> Linear<Float> { Linear(inputSize: input, outputSize: output, using: &generator) }
        embedding = Embedding(count: 5, dimension: 4, generator: &generator)
        blocks = (0..<blockCount).map { _ in
            Block(
                attention: Attention(query: linear(4, 4), key: linear(4, 4), value: linear(4, 4)),
                norm: LayerNorm(size: 4),
                feedForward: Sequential(linear(4, 8), ReLU(), linear(8, 4)))
        }
        head = linear(4, 3)
        adapters = ["b": linear(4, 4), "a": linear(4, 2)]
        pair = (linear(4, 4), linear(4, 4))
        extra = Sequential(Tanh(), linear(4, 4))
        scale = Tensor.ones(shape: [4])
        statistics = BatchNorm(channels: 4)
        vocabulary = Array(repeating: "token", count: 1000)
        width = 4
    }

    func callAsFunction(_ input: Tensor<Float>, context: ForwardContext) -> Tensor<Float> {
        var x = embedding(input, context: context).mean(alongAxes: [1])
        for block in blocks {
            let a = block.attention
            x = block.norm(x + a.value(x) * sigmoid(a.query(x) * a.key(x)))
            x = x + block.feedForward(x, context: context)
        }
        x = pair.second(pair.first(x)) + extra(x, context: context)
        return head!(statistics(x, context: context) * scale)
    }
}

@Suite struct ModuleTests {
    @Test func findsParametersAndBuffersOfNestedValuesUnderStateDictNames() {
        let model = Encoder(blockCount: 2, seed: 0)
        var expected = ["embedding.weight"]
        for block in 0..<2 {
            for part in ["attention.query", "attention.key", "attention.value"] {
                expected += ["blocks.\(block).\(part).weight", "blocks.\(block).\(part).bias"]
            }
            expected += ["blocks.\(block).norm.weight", "blocks.\(block).norm.bias"]
            expected += ["blocks.\(block).feedForward.0.weight", "blocks.\(block).feedForward.0.bias"]
            expected += ["blocks.\(block).feedForward.2.weight", "blocks.\(block).feedForward.2.bias"]
        }
        expected += ["head.weight", "head.bias", "adapters.a.weight", "adapters.a.bias", "adapters.b.weight", "adapters.b.bias"]
        expected += ["pair.first.weight", "pair.first.bias", "pair.second.weight", "pair.second.bias"]
        expected += ["extra.1.weight", "extra.1.bias", "statistics.weight", "statistics.bias"]
        #expect(model.parameterNames == expected)
        #expect(model.bufferNames == [
            "scale", "statistics.running_mean", "statistics.running_var", "statistics.num_batches_tracked",
        ])
        #expect(model.parameters.count == expected.count)
        #expect(model.parameters[1].shape == [4, 4] && model.parameters[0].shape == [5, 4])
        #expect(model.namedParameters.first { $0.name == "blocks.1.attention.key.bias" }?.value == model.blocks[1].attention.key.bias)
        #expect(model.parameterCount == model.parameters.reduce(0) { $0 + $1.scalarCount })
    }

    @Test func writesParametersBackIntoACopyOfTheModel() {
        let model = Encoder(blockCount: 2, seed: 0)
        let doubled = model.parameters.map { $0 * 2 }
        let updated = model.replacingParameters(with: doubled)
        #expect(updated.parameters == doubled)
        #expect(updated.blocks[1].attention.key.bias == model.blocks[1].attention.key.bias! * 2)
        #expect(updated.adapters["a"]!.weight == model.adapters["a"]!.weight * 2)
        #expect(updated.pair.second.bias == model.pair.second.bias! * 2)
        let extra = updated.extra as! Sequential<Float>, originalExtra = model.extra as! Sequential<Float>
        #expect((extra.layers[1] as! Linear<Float>).weight == (originalExtra.layers[1] as! Linear<Float>).weight * 2)
        #expect(updated.statistics.weight == model.statistics.weight! * 2)
        // Everything else is kept, and the original is a value apart.
        #expect(updated.scale == model.scale && updated.vocabulary.count == 1000 && updated.width == 4)
        #expect(updated.unusedHead == nil)
        #expect(model.parameters.map { $0 * 2 } == doubled)

        var assigned = model
        assigned.parameters = doubled
        #expect(assigned.parameters == doubled)
        var rescaled = model
        rescaled.buffers = rescaled.buffers.map { $0 + 1 }
        #expect(rescaled.scale == Tensor.filled(2, shape: [4]) && rescaled.statistics.runningVariance == Tensor.filled(2, shape: [4]))
        #expect(model.statistics.runningVariance == Tensor.ones(shape: [4]))
    }

    @Test func differentiatesThroughTheFoundParameters() {
        let model = Encoder(blockCount: 1, seed: 3)
        let tokens = Tensor<Float>(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 0])
        let (loss, gradients) = valueWithGradient(at: model.parameters) { parameters in
            model.replacingParameters(with: parameters)(tokens).sum()
        }
        #expect(loss.scalar.isFinite && gradients.count == model.parameters.count)
        #expect(zip(gradients, model.parameters).allSatisfy { $0.shape == $1.shape })
        // The unused head contributes nothing; the head used last has a non-zero gradient.
        let head = model.parameterNames.firstIndex(of: "head.weight")!
        #expect(gradients[head].scalars.contains { $0 != 0 })
    }

    @Test func wrongParameterShapesStopWithTheNameAndBothShapes() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var model = Sequential<Float>.multilayerPerceptron(widths: [3, 4, 2], seed: 0)
            var values = model.parameters
            values[2] = Tensor.zeros(shape: [4, 2])
            model.parameters = values
        } .map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("parameters: 2.weight has shape [2, 4], got a tensor of shape [4, 2]"), "\(text)")
        }
    }

    @Test func namesLongArraysAndTensorArraysByIndex() {
        struct Bank: Module {
            typealias Scalar = Double
            var kernels: [Tensor<Double>]
            var unused: [Tensor<Float>] = [Tensor([1])]
        }
        let bank = Bank(kernels: (0..<300).map { Tensor<Double>(Double($0)) })
        #expect(bank.parameterNames.count == 300 && bank.parameterNames[299] == "kernels.299")
        let shifted = bank.replacingParameters(with: bank.parameters.map { $0 + 1 })
        #expect(shifted.kernels[299].scalar == 300 && bank.kernels[299].scalar == 299)
    }

    @Test func propertiesCanTakePyTorchNames() {
        struct Attention: Layer {
            var queryProjection = Linear<Float>(inputSize: 2, outputSize: 2, seed: 0)
            var relu = ReLU<Float>()
            var output = Linear<Float>(inputSize: 2, outputSize: 2, seed: 1)
            static var stateDictNames: [PartialKeyPath<Attention>: String] { [\.queryProjection: "q_proj", \.output: "out_proj"] }
            func callAsFunction(_ x: Tensor<Float>, context: ForwardContext) -> Tensor<Float> { output(relu(queryProjection(x))) }
        }
        #expect(Attention().parameterNames == ["q_proj.weight", "q_proj.bias", "out_proj.weight", "out_proj.bias"])
        #expect(Sequential<Float>(Attention()).parameterNames.first == "0.q_proj.weight")
    }

    @Test func parameterFreeLayersAndPlainValuesHaveNoTensors() {
        #expect(ReLU<Float>().parameterNames.isEmpty && Dropout<Float>(probability: 0.5).parameters.isEmpty)
        #expect(MaxPool2D<Float>(kernelSize: (2, 2)).bufferNames.isEmpty)
    }
}
