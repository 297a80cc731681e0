import BackpropNN
import Foundation
import Testing

/// Workers of one process, one thread each, whose collectives meet at a barrier: `GradientReduction`
/// without MPI, so the sharded step is tested by `swift test`.
final class ThreadGroup: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    private var slots: [[Double]]
    private var arrived = 0
    private var generation = 0
    private var result: [Double] = []

    init(count: Int) {
        self.count = count
        slots = Array(repeating: [], count: count)
    }

    /// Waits for every worker's `values` and returns their sum (added in worker order).
    func sum(_ values: [Double], from worker: Int) -> [Double] {
        condition.lock()
        defer { condition.unlock() }
        let round = generation
        slots[worker] = values
        arrived += 1
        if arrived == count {
            result = (0..<values.count).map { i in slots.reduce(0) { $0 + $1[i] } }
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == round { condition.wait() }
        }
        return result
    }
}

/// One worker of a `ThreadGroup`.
final class ThreadWorker: GradientReduction, @unchecked Sendable {
    let group: ThreadGroup
    let workerIndex: Int
    var workerCount: Int { group.count }

    init(_ group: ThreadGroup, index: Int) {
        self.group = group
        workerIndex = index
    }

    func sum(_ values: inout [Double]) throws { values = group.sum(values, from: workerIndex) }
    func sum(_ gradients: inout [Tensor<Float>]) throws { try exchange(&gradients, keep: true) }
    func sum(_ gradients: inout [Tensor<Double>]) throws { try exchange(&gradients, keep: true) }
    func broadcast(_ tensors: inout [Tensor<Float>]) throws { try exchange(&tensors, keep: workerIndex == 0) }
    func broadcast(_ tensors: inout [Tensor<Double>]) throws { try exchange(&tensors, keep: workerIndex == 0) }

    /// Sums the tensors over the workers, each contributing its own (`keep`) or zeros.
    private func exchange<Scalar: TensorScalar>(_ tensors: inout [Tensor<Scalar>], keep: Bool) throws {
        let flat = tensors.flatMap { $0.scalars.map { keep ? Double($0) : 0 } }
        let sums = group.sum(flat, from: workerIndex)
        var offset = 0
        tensors = tensors.map { t in
            defer { offset += t.scalarCount }
            return Tensor(shape: t.shape, scalars: sums[offset..<offset + t.scalarCount].map { Scalar($0) })
        }
    }
}

/// Data-parallel training through `ClassifierTrainer.gradientReduction`: N workers on shards of every batch
/// end where one trainer on whole batches does.
struct DataParallelTrainingTests {
    /// Trains `workers` trainers, one thread each, and returns them.
    func trainInParallel(
        workers: Int, configuration: TrainingConfiguration, train: Dataset<Float>, test: Dataset<Float>
    ) -> [ClassifierTrainer<Float>] {
        let group = ThreadGroup(count: workers)
        let results = ResultBox(count: workers)
        let done = DispatchGroup()
        for index in 0..<workers {
            done.enter()
            let thread = Thread {
                var trainer = ClassifierTrainer<Float>(configuration: configuration, inputSize: 64, classCount: 10)
                trainer.gradientReduction = ThreadWorker(group, index: index)
                _ = try? trainer.train(on: train, evaluatingOn: test)
                results.set(index, trainer)
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return results.values
    }

    @Test(arguments: [(2, 32), (3, 33), (20, 33)])
    func shardsGiveTheSingleProcessRun(workers: Int, batchSize: Int) throws {
        // 20 workers on batches of 33: the last batch (1438 = 43·33 + 19 rows) is partial and leaves a shard empty.
        let (train, test) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
        let configuration = TrainingConfiguration(epochs: 2, batchSize: batchSize, maxGradientNorm: 1)
        var single = ClassifierTrainer<Float>(configuration: configuration, inputSize: 64, classCount: 10)
        try single.train(on: train, evaluatingOn: test)
        let parallel = trainInParallel(workers: workers, configuration: configuration, train: train, test: test)
        for trainer in parallel {
            #expect(trainer.completedEpochs == 2)
            for (a, b) in zip(trainer.history, single.history) {
                #expect(Swift.abs(a.trainLoss - b.trainLoss) <= 1e-5 * b.trainLoss)
                #expect(Swift.abs(a.testLoss! - b.testLoss!) <= 1e-5 * b.testLoss!)
                #expect(a.testAccuracy == b.testAccuracy)
            }
            // Every worker holds the same model.
            #expect(trainer.model.parameters.map(\.scalars) == parallel[0].model.parameters.map(\.scalars))
        }
    }

    @Test func shardsCoverTheBatchInOrder() {
        let group = ThreadGroup(count: 3)
        let shards = (0..<3).map { ThreadWorker(group, index: $0).shard(ofBatchOf: 10) }
        #expect(shards == [0..<3, 3..<6, 6..<10])
        #expect((0..<4).map { ThreadWorker(ThreadGroup(count: 4), index: $0).shard(ofBatchOf: 2) } == [0..<0, 0..<1, 1..<1, 1..<2])
    }
}

/// The trainers the worker threads return.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [ClassifierTrainer<Float>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ trainer: ClassifierTrainer<Float>) {
        lock.lock()
        slots[index] = trainer
        lock.unlock()
    }
    var values: [ClassifierTrainer<Float>] { slots.map { $0! } }
}
