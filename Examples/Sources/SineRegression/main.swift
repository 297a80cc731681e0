// A regression model of one's own on noisy sin(3x): the model is a struct of layers and its maths, trained
// with Adam through the model-level gradient, saved with PyTorch's state_dict names and loaded back.
import BackpropNN
import Foundation

struct SineModel: Layer {
    var hidden = Linear<Float>(inputSize: 1, outputSize: 32, initialization: .glorot, seed: 1)
    var output = Linear<Float>(inputSize: 32, outputSize: 1, initialization: .glorot, seed: 2)

    func callAsFunction(_ x: Tensor<Float>, context: ForwardContext) -> Tensor<Float> {
        output(tanh(hidden(x)))
    }
}

// 512 points of sin(3x) on [-1, 1] with noise of ±0.1.
var generator = SeededGenerator(seed: 0)
let xs = (0..<512).map { _ in Float(2 * generator.nextUnit() - 1) }
let ys = xs.map { Float(sin(3 * Double($0)) + 0.1 * (2 * generator.nextUnit() - 1)) }
let data = Dataset(features: Tensor(shape: [512, 1], scalars: xs), labels: [], targets: Tensor(shape: [512, 1], scalars: ys))

var model = SineModel()
var optimizer = Adam<Float>(learningRate: 0.01)
for epoch in 0..<300 {
    for batch in DataLoader(dataset: data, batchSize: 64, seed: 0).batches(epoch: epoch) {
        let (_, gradient) = valueWithGradient(at: model) { m in
            meanSquaredError(predicted: m(batch.features), expected: batch.targets!)
        }
        optimizer.update(&model, along: gradient)   // gradient is a SineModel: gradient.hidden.weight, …
    }
}
let loss = meanSquaredError(predicted: model(data.features), expected: data.targets!).scalar
print("mean squared error \(loss) (the noise alone gives about 0.0033)")

let url = FileManager.default.temporaryDirectory.appendingPathComponent("sine.safetensors")
try Checkpoint(model: model).save(to: url)   // hidden.weight, hidden.bias, output.weight, output.bias
var loaded = SineModel()
try Checkpoint.load(from: url).apply(to: &loaded)
let probe = Tensor<Float>(shape: [3, 1], scalars: [-0.5, 0, 0.5])
print("saved to \(url.path) and loaded: sin(3x) at -0.5, 0, 0.5 ≈ \(loaded(probe).scalars) (exact: -0.997, 0, 0.997)")
