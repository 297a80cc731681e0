// The digits MLP: 64-128-10 with ReLU, Adam, softmax cross-entropy, mini-batches of 32, written as a loop
// of forward, loss, gradient (a value of the model's type) and step, on the digits bundled with BackpropNN.
import BackpropNN
import Foundation

let (train, test) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
let normalization = Normalization.standardizing(train.features)
let trainSet = normalization.apply(train), testSet = normalization.apply(test)

var model = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 0)
var optimizer = Adam<Float>(learningRate: 1e-3)
let loader = DataLoader(dataset: trainSet, batchSize: 32, shuffles: true, seed: 0)

for epoch in 0..<20 {
    var totalLoss = 0.0
    for batch in loader.batches(epoch: epoch) {
        let (loss, gradient) = valueWithGradient(at: model) { m in
            softmaxCrossEntropy(logits: m(batch.features), labels: batch.labels)
        }
        optimizer.update(&model, along: gradient)
        totalLoss += Double(loss.scalar) * Double(batch.labels.count)
    }
    if epoch % 5 == 4 {
        let predictions = predictedClasses(withoutRecording { model(testSet.features) })
        print("epoch \(epoch + 1)  train loss \(totalLoss / Double(trainSet.count))  "
            + "test accuracy \(accuracy(predictions: predictions, labels: testSet.labels))")
    }
}

let predictions = predictedClasses(withoutRecording { model(testSet.features) })
print(ConfusionMatrix(predictions: predictions, labels: testSet.labels, classCount: 10))
let url = FileManager.default.temporaryDirectory.appendingPathComponent("digits-mlp.safetensors")
try Checkpoint(model: model).save(to: url)
print("saved \(url.path) (loads into PyTorch's nn.Sequential(Linear(64,128), ReLU(), Linear(128,10)))")
