import ArgumentParser
import BackpropCommandLine
import BackpropDistributed
import BackpropNN

/// `backprop-mpi check`: the DistributedTraining article's hand-written data-parallel loop (rank, size, broadcast of the
/// parameters, allreduce of the gradients) on the digits MLP; prints the last epoch's mean training loss.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "A user's own data-parallel loop over the library API (digits MLP); prints the final loss as JSON.")

    /// Passes over the training set.
    @Option(help: "Epochs.") var epochs: Int = 3
    /// The global batch.
    @Option(help: "Examples per global batch.") var batchSize: Int = 32

    func run() throws {
        guard epochs > 0 else { throw UserError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize > 0 else { throw UserError("--batch-size must be positive, got \(batchSize)") }
        let world = try Communicator()
        let loss = try train(world)
        if world.isRoot { print("{\"final_train_loss\":\(loss),\"ranks\":\(world.size)}") }
        world.finalize()
    }

    /// Trains the default MLP on the bundled digits with a global batch split over the ranks, and returns
    /// the last epoch's mean training loss (identical on every rank).
    func train(_ world: Communicator) throws -> Double {
        let (train, _) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
        var model = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 0)
        try world.broadcastParameters(&model.parameters)
        var optimizer = Adam<Float>(learningRate: 1e-3)
        var lastLoss = 0.0
        for epoch in 0..<epochs {
            var sums = [0.0, 0.0]  // loss sum, example count
            for batch in DataLoader(dataset: train, batchSize: batchSize, seed: 0).batches(epoch: epoch) {
                let n = batch.labels.count
                let mine = (world.rank * n / world.size) ..< ((world.rank + 1) * n / world.size)
                var gradients = model.parameters.map { Tensor<Float>.zeros(shape: $0.shape) }
                if !mine.isEmpty {
                    let features = batch.features.slicing(mine, alongAxis: 0)
                    let labels = Array(batch.labels[mine])
                    let network = model
                    let (loss, g) = valueWithGradient(at: model.parameters) { parameters in
                        var m = network
                        m.parameters = parameters
                        return softmaxCrossEntropy(logits: m(features), labels: labels) * Float(mine.count)
                    }
                    gradients = g
                    sums[0] += Double(loss.scalar)
                }
                sums[1] += Double(mine.count)
                let averaged = try world.allreduceGradients(gradients, dividingBy: n)
                optimizer.update(&model.parameters, along: averaged)
            }
            try world.allreduceSum(&sums)
            lastLoss = sums[0] / sums[1]
            if world.isRoot { print("epoch \(epoch + 1)/\(epochs)  loss \(lastLoss)") }
        }
        return lastLoss
    }
}
