// backprop-mpi: data-parallel training of the digits MLP over MPI (`check`), and a loopback allreduce
// benchmark (`bench-allreduce`). Run under `mpirun --allow-run-as-root --oversubscribe -np N`.
import BackpropDistributed
import BackpropNN
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(2)
}

func option(_ name: String, _ arguments: [String], default value: Int) -> Int {
    guard let i = arguments.firstIndex(of: name) else { return value }
    guard i + 1 < arguments.count, let v = Int(arguments[i + 1]), v > 0 else {
        fail("\(name) expects a positive integer")
    }
    return v
}

/// Trains the default MLP on the bundled digits with a global batch split over the ranks, and returns
/// the last epoch's mean training loss (identical on every rank).
func train(_ world: Communicator, epochs: Int, batchSize: Int) throws -> Double {
    let (train, _) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
    var model = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 0)
    try world.broadcastParameters(&model.parameters)
    var optimizer = Adam<Float>(learningRate: 1e-3)
    var lastLoss = 0.0
    for epoch in 0..<epochs {
        var sums = [0.0, 0.0]  // loss sum, example count
        for batch in DataLoader(dataset: train, batchSize: batchSize, seed: 0).batches(epoch: epoch) {
            let n = batch.labels.count
            let lower = world.rank * n / world.size
            let upper = (world.rank + 1) * n / world.size
            var gradients = model.parameters.map { Tensor<Float>.zeros(shape: $0.shape) }
            if upper > lower {
                let features = batch.features.slicing(lower..<upper, alongAxis: 0)
                let labels = Array(batch.labels[lower..<upper])
                let network = model
                let (loss, g) = valueWithGradient(at: model.parameters) { parameters in
                    var m = network
                    m.parameters = parameters
                    return softmaxCrossEntropy(logits: m(features), labels: labels) * Float(upper - lower)
                }
                gradients = g
                sums[0] += Double(loss.scalar)
            }
            sums[1] += Double(upper - lower)
            let averaged = try world.allreduceGradients(gradients, dividingBy: n)
            optimizer.update(&model.parameters, along: averaged)
        }
        try world.allreduceSum(&sums)
        lastLoss = sums[0] / sums[1]
        if world.isRoot { print("epoch \(epoch + 1)/\(epochs)  loss \(lastLoss)") }
    }
    return lastLoss
}

/// Times allreduce of `count` floats (median of `repeats`), returning seconds.
func benchAllreduce(_ world: Communicator, count: Int, repeats: Int) throws -> Double {
    var buffer = [Float](repeating: 1, count: count)
    try world.barrier()
    var times = [Double]()
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try world.allreduceSum(&buffer)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let world = try Communicator()
    switch arguments.first {
    case "check":
        let epochs = option("--epochs", arguments, default: 3)
        let batch = option("--batch-size", arguments, default: 32)
        let loss = try train(world, epochs: epochs, batchSize: batch)
        if world.isRoot { print("{\"final_train_loss\":\(loss),\"ranks\":\(world.size)}") }
    case "bench-allreduce":
        for count in [10, 1_000, 9_610, 100_000, 1_000_000] {
            let seconds = try benchAllreduce(world, count: count, repeats: count > 100_000 ? 20 : 200)
            if world.isRoot {
                let gbps = Double(count * 4) / seconds / 1e9
                print("floats \(count)  bytes \(count * 4)  median \(String(format: "%.1f", seconds * 1e6)) us  \(String(format: "%.3f", gbps)) GB/s")
            }
        }
    default:
        fail("usage: backprop-mpi check [--epochs E] [--batch-size B] | bench-allreduce")
    }
    world.finalize()
} catch {
    fail("rank failed: \(error)")
}
