import BackpropNN

/// How `TrainOptions.run(parallelism:)` shares a run with other processes (data parallelism): the gradient
/// reduction its trainer uses, and a hook told, after every epoch, where the last complete checkpoint is.
///
/// Worker 0 alone prints progress and results and writes the checkpoint and the plot; the other workers
/// print nothing but errors. Every worker reads the data and, on `--resume`, the checkpoint itself (the
/// files must be readable by every process); worker 0's parameters are then broadcast to all.
public struct TrainingParallelism {
    /// Sums gradients and statistics over the workers.
    public var reduction: any GradientReduction
    /// Called on every worker after each epoch's checkpoint, with its path (worker 0 calls it once the
    /// file is completely written).
    public var checkpointCompleted: (String) -> Void
    /// Extra entries for the `--json` line (e.g. the time spent in collectives), asked at the end of the run.
    public var report: () -> [String: Any]

    /// Creates the set-up for a data-parallel run.
    public init(
        reduction: any GradientReduction, checkpointCompleted: @escaping (String) -> Void = { _ in },
        report: @escaping () -> [String: Any] = { [:] }
    ) {
        self.reduction = reduction
        self.checkpointCompleted = checkpointCompleted
        self.report = report
    }

    /// Whether this worker prints and writes files (worker 0).
    var isReporting: Bool { reduction.workerIndex == 0 }
}
