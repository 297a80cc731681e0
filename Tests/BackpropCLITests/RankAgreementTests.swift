import BackpropNN
import Foundation
import Testing

import BackpropCommandLine
@testable import backprop

/// Issue #24: workers of a data-parallel run given different data or flags stop, every one, with a message
/// naming what differs, before their first collective (over MPI they would call collectives of other counts
/// and sizes and corrupt the heap). The workers here are threads meeting at a barrier.
@Suite(.serialized)
struct RankAgreementTests {
    /// Runs `train` with each worker's arguments on its own thread and returns what each threw (nil: success).
    func runWorkers(_ arguments: [[String]], settings: [[(name: String, value: String)]]? = nil) -> [String?] {
        let group = Barrier(count: arguments.count)
        let results = Results(count: arguments.count)
        let threads = arguments.indices.map { index in
            Thread {
                do {
                    let options = try TrainOptions.parse(arguments[index])
                    let parallelism = TrainingParallelism(
                        reduction: BarrierWorker(group, index: index), settings: settings?[index] ?? [])
                    try options.run(parallelism: parallelism)
                } catch let error as UserError {
                    results.set(index, error.message)
                } catch {
                    results.set(index, "\(error)")
                }
                results.finish()
            }
        }
        threads.forEach { $0.start() }
        results.waitForAll()
        return results.values
    }

    @Test func workersWithDifferentDataOrFlagsStopWithAMessageNamingWhat() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-ranks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("d.csv"), stale = folder.appendingPathComponent("stale.csv")
        let rows = (0..<60).map { row in "\(row % 7),\(row % 3),\(row % 5),\(row % 2)" }
        try rows.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        try rows.dropLast(3).joined(separator: "\n").write(to: stale, atomically: true, encoding: .utf8)
        func worker(_ extra: [String], index: Int) -> [String] {
            ["--epochs", "1", "--quiet", "--save", folder.appendingPathComponent("m\(index).safetensors").path,
             "--plot", folder.appendingPathComponent("p\(index).svg").path] + extra
        }
        // The same run on both: it trains.
        let same = runWorkers([worker(["--data", data.path], index: 0), worker(["--data", data.path], index: 1)])
        #expect(same == [nil, nil])
        // A stale copy of the data on one worker.
        for message in runWorkers([worker(["--data", data.path], index: 0), worker(["--data", stale.path], index: 1)]) {
            #expect(message?.contains("the training examples (--data) differs on rank 1 from rank 0") == true, "\(message ?? "no error")")
        }
        // Flags that change the collectives.
        let flagCases: [([String], [String], String)] = [
            (["--layers", "16"], ["--layers", "8"], "--layers differs on rank 1 from rank 0 (here: "),
            (["--batch-size", "16"], ["--batch-size", "32"], "--batch-size differs"),
            (["--epochs", "1"], ["--epochs", "2"], "--epochs differs"),
            (["--seed", "1"], [], "--seed differs"),
        ]
        for (first, second, fragment) in flagCases {
            let messages = runWorkers([worker(["--data", data.path] + first, index: 0), worker(["--data", data.path] + second, index: 1)])
            for message in messages {
                #expect(message?.contains(fragment) == true, "\(first) vs \(second): \(message ?? "no error")")
                #expect(message?.contains("every process must be given the same flags and the same data") == true)
            }
        }
        // The launcher's own settings.
        let launcher = runWorkers(
            [worker(["--data", data.path], index: 0), worker(["--data", data.path], index: 1)],
            settings: [[("--bucket-mb", "25")], [("--bucket-mb", "1")]])
        for message in launcher { #expect(message?.contains("--bucket-mb differs on rank 1") == true, "\(message ?? "no error")") }
    }
}

/// Threads whose `sum` calls meet: each call returns the sum of every thread's values.
final class Barrier: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    private var slots: [[Double]]
    private var arrived = 0, generation = 0
    private var result: [Double] = []

    init(count: Int) {
        self.count = count
        slots = Array(repeating: [], count: count)
    }

    func sum(_ values: [Double], from worker: Int) -> [Double] {
        condition.lock()
        defer { condition.unlock() }
        let round = generation
        slots[worker] = values
        arrived += 1
        if arrived == count {
            precondition(slots.allSatisfy { $0.count == values.count }, "Barrier: workers sent \(slots.map(\.count)) values")
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

/// One worker of a `Barrier`: a `GradientReduction` without MPI.
final class BarrierWorker: GradientReduction, @unchecked Sendable {
    let group: Barrier
    let workerIndex: Int
    var workerCount: Int { group.count }

    init(_ group: Barrier, index: Int) {
        self.group = group
        workerIndex = index
    }

    func sum(_ values: inout [Double]) throws { values = group.sum(values, from: workerIndex) }
    func sum(_ gradients: inout [Tensor<Float>]) throws { try exchange(&gradients, keep: true) }
    func sum(_ gradients: inout [Tensor<Double>]) throws { try exchange(&gradients, keep: true) }
    func broadcast(_ tensors: inout [Tensor<Float>]) throws { try exchange(&tensors, keep: workerIndex == 0) }
    func broadcast(_ tensors: inout [Tensor<Double>]) throws { try exchange(&tensors, keep: workerIndex == 0) }

    private func exchange<Scalar: TensorScalar>(_ tensors: inout [Tensor<Scalar>], keep: Bool) throws {
        let sums = group.sum(tensors.flatMap { $0.scalars.map { keep ? Double($0) : 0 } }, from: workerIndex)
        var offset = 0
        tensors = tensors.map { t in
            defer { offset += t.scalarCount }
            return Tensor(shape: t.shape, scalars: sums[offset..<offset + t.scalarCount].map { Scalar($0) })
        }
    }
}

/// What each worker thread ended with.
final class Results: @unchecked Sendable {
    private let condition = NSCondition()
    private(set) var values: [String?]
    private var finished = 0

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ message: String) {
        condition.lock()
        values[index] = message
        condition.unlock()
    }

    func finish() {
        condition.lock()
        finished += 1
        condition.broadcast()
        condition.unlock()
    }

    func waitForAll() {
        condition.lock()
        while finished < values.count { condition.wait() }
        condition.unlock()
    }
}
