// The data-parallel loop of the DistributedTraining article (Sources/BackpropNN/BackpropNN.docc), as written
// there: scripts/test_distributed.sh runs it on 3 ranks, and the documentation tests check that the article's
// snippet is this file's code.
import BackpropDistributed
import BackpropNN

let world = try Communicator()
let (train, _) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
var model = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 0)
try world.broadcastParameters(&model.parameters)          // every rank starts from rank 0's weights
var optimizer = Adam<Float>(learningRate: 1e-3)
for batch in DataLoader(dataset: train, batchSize: 32, seed: 0).batches(epoch: 0) {
    let n = batch.labels.count
    let mine = (world.rank * n / world.size) ..< ((world.rank + 1) * n / world.size)
    var gradients = model.parameters.map { Tensor<Float>.zeros(shape: $0.shape) }
    if !mine.isEmpty {
        let x = batch.features.slicing(mine, alongAxis: 0), y = Array(batch.labels[mine])
        let network = model
        gradients = valueWithGradient(at: model.parameters) { p in
            var m = network
            m.parameters = p
            return softmaxCrossEntropy(logits: m(x), labels: y) * Float(mine.count)   // the shard's SUM
        }.gradient
    }
    let mean = try world.allreduceGradients(gradients, dividingBy: n)   // the same on every rank
    optimizer.update(&model.parameters, along: mean)
}
world.finalize()
if world.rank == 0 { print("one data-parallel epoch over \(world.size) ranks") }
