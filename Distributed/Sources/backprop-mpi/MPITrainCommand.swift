import ArgumentParser
import BackpropCommandLine
import BackpropDistributed
import BackpropNN
import Foundation

/// `backprop-mpi train`: `backprop train` with every global batch split over the ranks.
struct MPITrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "backprop train, data parallel: each rank computes the gradient of its shard of every batch.",
        discussion: TrainOptions.discussion + """


            Every rank builds the same model from the same seed (on --resume, reads the checkpoint, then takes \
            rank 0's parameters); before the first collective the ranks compare digests of their data, flags and \
            model, and stop, all of them, with a message naming what differs. Each rank computes on its shard of each global batch (--batch-size is the global batch), \
            and the gradients are summed over the ranks and divided by the batch size before every rank applies \
            the same update: the single-process run's numbers, whether or not the rank count divides the batch. \
            Rank 0 alone prints and writes the checkpoint and the plot. BatchNorm uses per-shard statistics.
            """)

    /// The flags of `backprop train`.
    @OptionGroup var options: TrainOptions

    /// Gradient bucket size.
    @Option(name: .customLong("bucket-mb"), help: "Gradient bytes per allreduce, in MiB (the gradients are sent in buckets of about this size).")
    var bucketMegabytes: Double = 25

    /// The watchdog's limit.
    @Option(help: "Seconds a collective may wait for the other ranks before this rank gives up with a message.")
    var timeout: Double = 120

    func run() throws {
        // Bounded so that the bytes and milliseconds they become fit in an Int (1e300 is finite and traps there).
        guard bucketMegabytes > 0, bucketMegabytes <= 1_048_576 else { throw UserError("--bucket-mb must lie in (0, 1048576], got \(bucketMegabytes)") }
        guard timeout > 0, timeout <= 1e9 else { throw UserError("--timeout must be a positive number of seconds up to 1e9, got \(timeout)") }
        let world = try Communicator()
        let watchdog = CollectiveWatchdog(rank: world.rank, timeout: timeout, program: "backprop-mpi")
        world.watchdog = watchdog
        let reduction = MPIGradientReduction(world, bucketBytes: Swift.max(1, Int(bucketMegabytes * 1_048_576)))
        do {
            let parallelism = TrainingParallelism(
                reduction: reduction, checkpointCompleted: watchdog.checkpointCompleted,
                report: { ["allreduce_seconds": reduction.gradientSeconds, "allreduce_steps": reduction.gradientReductions, "bucket_bytes": reduction.bucketBytes] },
                settings: [("--bucket-mb", "\(reduction.bucketBytes) bytes")])
            try options.run(parallelism: parallelism)
        } catch let error as MPIError {
            throw RunFailure("\(error); \(watchdog.checkpointNote)")
        }
        world.finalize()
    }
}
