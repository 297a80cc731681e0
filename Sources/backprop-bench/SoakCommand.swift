import ArgumentParser
import Backprop
import BackpropNN
import Foundation
import BackpropCommandLine

/// A long-running check, not a unit test: memory stays flat over many training steps, and gradients
/// computed on several threads at once equal the serial ones bit for bit.
struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Train the default model for many steps sampling resident memory, then compute gradients on several threads at once against the serial result.",
        discussion: """
            Prints the resident memory after the first two epochs and at the end (and their ratio), then how \
            many gradients each thread computed and whether every one equalled the serial gradient. Exit \
            status 1 when memory grew by more than 5% or a thread's gradient differed.
            """)

    @Option(help: "Training steps (batches of 32 of the bundled digits).")
    var steps = 10_000

    @Option(help: "Threads computing gradients at once.")
    var threads = 4

    @Option(help: "Seconds the threads run.")
    var seconds = 60.0

    func run() throws {
        guard steps > 0, threads > 0, seconds >= 0 else { throw UserError("--steps and --threads must be positive, --seconds not negative") }
        let (train, _) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
        let normalization = Normalization<Float>.standardizing(train.features)
        let data = normalization.apply(train)
        let batchesPerEpoch = (data.count + 31) / 32
        let epochs = (steps + batchesPerEpoch - 1) / batchesPerEpoch
        var trainer = ClassifierTrainer<Float>(
            configuration: TrainingConfiguration(epochs: epochs), inputSize: data.featureCount, classCount: 10)

        // Memory: sampled once the run is warm (two epochs), and at the end.
        var warm = 0.0
        let start = Date()
        while trainer.completedEpochs < epochs {
            try trainer.trainEpoch(on: data)
            if trainer.completedEpochs == Swift.min(2, epochs) { warm = residentMegabytes() }
        }
        let end = residentMegabytes()
        let growth = end / warm
        print(String(format: "%d steps (%d epochs) in %.1f s: resident %.1f MB after 2 epochs, %.1f MB at the end (%.3f×), peak %.1f MB",
                     epochs * batchesPerEpoch, epochs, Date().timeIntervalSince(start), warm, end, growth, peakResidentMegabytes()))

        // Threads: the same gradient, serially once, then on every thread until the time is up.
        let batch = data.subset(Array(0..<64))
        let shared = SharedModel(model: trainer.model)
        @Sendable func gradientOfBatch() -> [[Float]] {
            gradient(at: shared.model.parameters) { parameters in
                var network = shared.model
                network.parameters = parameters
                return softmaxCrossEntropy(logits: network(batch.features), labels: batch.labels)
            }.map(\.scalars)
        }
        let serial = gradientOfBatch()
        let results = ThreadResults(count: threads)
        let deadline = Date().addingTimeInterval(seconds)
        // Threads of their own (not Dispatch's pool, which runs as many at once as there are cores).
        let finished = DispatchGroup()
        for thread in 0..<threads {
            finished.enter()
            Thread {
                var count = 0, mismatches = 0
                repeat {
                    if gradientOfBatch() != serial { mismatches += 1 }
                    count += 1
                } while Date() < deadline
                results.set(thread, count: count, mismatches: mismatches)
                finished.leave()
            }.start()
        }
        finished.wait()
        let (counts, mismatches) = results.values
        print("\(threads) threads for \(Int(seconds)) s: \(counts.map(String.init).joined(separator: ", ")) gradients; "
            + (mismatches == 0 ? "every one equal to the serial gradient" : "\(mismatches) differed from the serial gradient"))
        if growth > 1.05 || mismatches > 0 { throw ExitCode(1) }
    }

    /// The current resident set size in megabytes (Linux: /proc/self/statm; elsewhere the peak).
    func residentMegabytes() -> Double {
        if let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = text.split(separator: " ")
            if fields.count > 1, let pages = Double(fields[1]) { return pages * Double(getpagesize()) / 1_048_576 }
        }
        return peakResidentMegabytes()
    }
}

/// A model read (never written) by several threads: each takes its own copy of the value.
struct SharedModel: @unchecked Sendable {
    let model: Sequential<Float>
}

/// Per-thread counts written by concurrent workers.
final class ThreadResults: @unchecked Sendable {
    private var counts: [Int]
    private var mismatches = 0
    private let lock = NSLock()

    init(count: Int) { counts = [Int](repeating: 0, count: count) }

    func set(_ thread: Int, count: Int, mismatches: Int) {
        lock.lock()
        counts[thread] = count
        self.mismatches += mismatches
        lock.unlock()
    }

    var values: ([Int], Int) {
        lock.lock()
        defer { lock.unlock() }
        return (counts, mismatches)
    }
}
