import Backprop
import BackpropNN
import Foundation
import Testing

// The model of scripts/make_pytorch_model_fixture.py, written as Swift structs: nothing beyond the maths,
// and one rename (Swift's feedForward is PyTorch's feed_forward).

private struct Attention: Module {
    typealias Scalar = Float
    var query, key, value: Linear<Float>
}

private struct Block: Module {
    typealias Scalar = Float
    var attention: Attention
    var norm: LayerNorm<Float>
    var feedForward: Sequential<Float>
    static var stateDictNames: [PartialKeyPath<Block>: String] { [\.feedForward: "feed_forward"] }

    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        let y = norm(x + attention.value(x) * sigmoid(attention.query(x) * attention.key(x)))
        return y + feedForward(y)
    }
}

private struct Model: Layer {
    var encoder: Sequential<Float>
    var bn: BatchNorm<Float>
    var blocks: [Block]
    var head: Linear<Float>

    init(inputs: Int = 6, width: Int = 8, outputs: Int = 3, blockCount: Int = 2) {
        var generator = SeededGenerator(seed: 42)
        func linear(_ i: Int, _ o: Int) -> Linear<Float> { Linear(inputSize: i, outputSize: o, using: &generator) }
        encoder = Sequential(linear(inputs, width), Tanh())
        bn = BatchNorm(channels: width)
        blocks = (0..<blockCount).map { _ in
            Block(
                attention: Attention(query: linear(width, width), key: linear(width, width), value: linear(width, width)),
                norm: LayerNorm(size: width), feedForward: Sequential(linear(width, 2 * width), ReLU(), linear(2 * width, width)))
        }
        head = linear(width, outputs)
    }

    func callAsFunction(_ x: Tensor<Float>, context: ForwardContext) -> Tensor<Float> {
        head(blocks.reduce(bn(encoder(x, context: context), context: context)) { x, block in block(x) })
    }
}

@Suite struct PyTorchModelTests {
    private struct InputsAndOutputs: Codable {
        var keys: [String]
        var inputs: [[Float]]
        var outputs: [[Float]]
    }

    private func matrix(_ rows: [[Float]]) -> Tensor<Float> { Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0 }) }

    @Test func aPyTorchStateDictLoadsByNameAndGivesPyTorchsOutputs() throws {
        let io = try JSONDecoder().decode(InputsAndOutputs.self, from: Data(contentsOf: fixture("pytorch_model/io.json")))
        let checkpoint = try Checkpoint.load(from: fixture("pytorch_model/model.safetensors"))
        var model = Model()
        #expect(Set(model.parameterNames + model.bufferNames) == Set(io.keys))
        #expect(model.parameterNames.contains("blocks.1.feed_forward.2.weight"))
        try checkpoint.apply(to: &model)
        #expect(model.bn.batchesTracked == 3)
        let outputs = model(matrix(io.inputs))
        let expected = matrix(io.outputs)
        #expect(outputs.shape == expected.shape)
        #expect(zip(outputs.scalars, expected.scalars).allSatisfy { abs($0 - $1) < 1e-5 }, "\(outputs.scalars) vs \(expected.scalars)")

        // The way back: a model changed here is saved under the same names, with PyTorch's int64 counter.
        var optimizer = SGD<Float>(learningRate: 0.1)
        let target = Tensor<Float>.randomNormal(shape: [4, 3], seed: 9)
        for _ in 0..<3 {
            optimizer.update(&model, along: gradient(at: model) { m in
                meanSquaredError(predicted: m(matrix(io.inputs), context: ForwardContext(mode: .training)), expected: target)
            })
        }
        let saved = Checkpoint(model: model)
        #expect(Set(saved.names) == Set(io.keys))
        #expect(saved.file.tensors["bn.num_batches_tracked"]?.dtype == .int64)
        let changed = model(matrix(io.inputs))
        #expect(changed != outputs && model.bn.batchesTracked == 6)
        if let folder = ProcessInfo.processInfo.environment["BACKPROP_PYTORCH_ROUNDTRIP_DIR"] {
            // scripts/make_pytorch_model_fixture.py --check FOLDER loads it into PyTorch and compares.
            let url = URL(fileURLWithPath: folder)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try saved.save(to: url.appendingPathComponent("model.safetensors"))
            let rows = (0..<4).map { row in (0..<3).map { changed[index: row, $0] } }
            try JSONEncoder().encode(InputsAndOutputs(keys: saved.names, inputs: io.inputs, outputs: rows))
                .write(to: url.appendingPathComponent("io.json"))
        }
    }
}
