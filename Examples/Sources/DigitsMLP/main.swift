// The digits MLP: 64-128-10 with ReLU, Adam, softmax cross-entropy, mini-batches of 32, written out as
// the loop a PyTorch user knows (forward, loss, backward, step), on the digits bundled with BackpropNN.
import BackpropNN
import Foundation

let (train, test) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
let normalization = Normalization.standardizing(train.features)
let trainSet = normalization.apply(train), testSet = normalization.apply(test)

var model = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 0)
var optimizer = Adam<Float>(learningRate: 1e-3)
let loader = DataLoader(dataset: trainSet, batchSize: 32, shuffles: true, seed: 0)

for epoch in 0..<30 {
    var totalLoss = 0.0
    for batch in loader.batches(epoch: epoch) {
        let network = model
        let (loss, gradients) = valueWithGradient(at: model.parameters) { parameters in
            var m = network
            m.parameters = parameters
            return softmaxCrossEntropy(logits: m(batch.features), labels: batch.labels)
        }
        optimizer.update(&model.parameters, along: gradients)
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
try Checkpoint(model: model).save(to: URL(fileURLWithPath: "digits-mlp.safetensors"))
print("saved digits-mlp.safetensors (loads into PyTorch's nn.Sequential(Linear(64,128), ReLU(), Linear(128,10)))")
