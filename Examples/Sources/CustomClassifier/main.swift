// A classifier of one's own on the bundled handwritten digits, trained PyTorch's way: parameters that
// require gradients, loss.backward(), optimizer.update(&model), model.zeroGradients().
import BackpropNN
import Foundation

struct DigitClassifier: Layer {
    var hidden = Linear<Float>(inputSize: 64, outputSize: 64, seed: 1)
    var norm = LayerNorm<Float>(size: 64)
    var output = Linear<Float>(inputSize: 64, outputSize: 10, initialization: .glorot, seed: 2)

    func callAsFunction(_ x: Tensor<Float>, context: ForwardContext) -> Tensor<Float> {
        output(relu(norm(hidden(x))))
    }
}

let (train, test) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
var model = DigitClassifier().requiringGradients()
var optimizer = SGD<Float>(learningRate: 0.05, momentum: 0.9)
print("parameters: \(model.parameterNames.joined(separator: ", "))")

for epoch in 0..<15 {
    var total = 0.0
    for batch in DataLoader(dataset: train, batchSize: 32, seed: 0).batches(epoch: epoch) {
        model.zeroGradients()
        let loss = softmaxCrossEntropy(logits: model(batch.features), labels: batch.labels)
        loss.backward()
        optimizer.update(&model)   // along every parameter's grad
        total += Double(loss.scalar) * Double(batch.labels.count)
    }
    if epoch % 5 == 4 {
        let predictions = predictedClasses(withoutRecording { model(test.features) })
        print("epoch \(epoch + 1)  train loss \(total / Double(train.count))  "
            + "test accuracy \(accuracy(predictions: predictions, labels: test.labels))")
    }
}
