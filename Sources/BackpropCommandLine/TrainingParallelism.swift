import BackpropNN

/// How `TrainOptions.run(parallelism:)` shares a run with other processes (data parallelism): the gradient
/// reduction its trainer uses, and a hook told, after every epoch, where the last complete checkpoint is.
///
/// Worker 0 alone prints progress and results and writes the checkpoint and the plot; the other workers
/// print nothing but errors. Every worker reads the data and, on `--resume`, the checkpoint itself (the
/// files must be readable by every process); before the first collective the workers compare digests of the
/// data, the flags and the model (and stop, every one, with a message naming what differs); worker 0's
/// parameters are then broadcast to all.
public struct TrainingParallelism {
    /// Sums gradients and statistics over the workers.
    public var reduction: any GradientReduction
    /// Called on every worker after each epoch's checkpoint, with its path (worker 0 calls it once the
    /// file is completely written).
    public var checkpointCompleted: (String) -> Void
    /// Extra entries for the `--json` line (e.g. the time spent in collectives), asked at the end of the run.
    public var report: () -> [String: Any]
    /// The launcher's own settings that every worker must share because they change the collectives (the
    /// gradient bucket size, say), by flag name: compared with the data and the training flags before the
    /// first collective.
    public var settings: [(name: String, value: String)]

    /// Creates the set-up for a data-parallel run.
    ///
    /// - Parameters:
    ///   - reduction: sums gradients and statistics over the workers.
    ///   - checkpointCompleted: told the path of each complete checkpoint.
    ///   - report: extra entries for the `--json` line.
    ///   - settings: the launcher's settings every worker must share, by flag name.
    public init(
        reduction: any GradientReduction, checkpointCompleted: @escaping (String) -> Void = { _ in },
        report: @escaping () -> [String: Any] = { [:] }, settings: [(name: String, value: String)] = []
    ) {
        self.reduction = reduction
        self.checkpointCompleted = checkpointCompleted
        self.report = report
        self.settings = settings
    }

    /// Whether this worker prints and writes files (worker 0).
    var isReporting: Bool { reduction.workerIndex == 0 }
}
