/// How a `ClassifierTrainer` shares its work with other workers (processes, machines): data parallelism.
///
/// Every worker holds the same model and optimizer state. For each global batch of B examples, worker r of
/// N computes on its own shard (`shard(ofBatchOf:)`: examples `r·B/N ..< (r+1)·B/N`), takes the gradient of
/// the SUM of its shard's per-example losses, and `sum(_:)` adds those gradients over the workers; the
/// trainer divides by B. That is the single-process mean gradient of the whole batch whether or not N
/// divides B (a shard may even be empty). Gradient clipping and the optimizer step then see the same averaged
/// gradient on every worker, so the models stay identical without ever being sent again.
///
/// Layers with batch statistics (BatchNorm) use per-shard statistics, as PyTorch's DistributedDataParallel
/// does without SyncBatchNorm; their running statistics are taken from worker 0 after every epoch
/// (`broadcast(_:)`), so evaluation and checkpoints agree on every worker. Dropout draws a different mask on
/// each worker's shard, so a run with dropout is statistically, not bitwise, the single-process run.
///
/// The default is none: a `ClassifierTrainer` without a reduction computes the mean gradient of the whole
/// batch itself, exactly as before. `BackpropDistributed`'s `MPIGradientReduction` implements this protocol
/// over MPI.
public protocol GradientReduction: AnyObject {
    /// This worker's index, `0 ..< workerCount`; worker 0 is the one that reports and saves.
    var workerIndex: Int { get }
    /// The number of workers.
    var workerCount: Int { get }
    /// Adds `gradients` over all workers in place: afterwards every worker holds the same sums.
    func sum(_ gradients: inout [Tensor<Float>]) throws
    /// Adds `gradients` over all workers in place (double precision).
    func sum(_ gradients: inout [Tensor<Double>]) throws
    /// Adds `values` over all workers in place (statistics: loss sums, counts).
    func sum(_ values: inout [Double]) throws
    /// Replaces `tensors` on every worker with worker 0's.
    func broadcast(_ tensors: inout [Tensor<Float>]) throws
    /// Replaces `tensors` on every worker with worker 0's (double precision).
    func broadcast(_ tensors: inout [Tensor<Double>]) throws
}

extension GradientReduction {
    /// The examples of a global batch of `count` that this worker computes on: a contiguous slice, the
    /// slices of all workers covering `0 ..< count` in order, their sizes differing by at most one.
    public func shard(ofBatchOf count: Int) -> Range<Int> {
        (workerIndex * count / workerCount) ..< ((workerIndex + 1) * count / workerCount)
    }

    /// Adds `gradients` over all workers, whichever precision `Scalar` is.
    func sum<Scalar: TensorScalar>(generic gradients: inout [Tensor<Scalar>]) throws {
        try byPrecision(&gradients, float: { try sum(&$0) }, double: { try sum(&$0) })
    }

    /// Replaces `tensors` with worker 0's, whichever precision `Scalar` is.
    func broadcast<Scalar: TensorScalar>(generic tensors: inout [Tensor<Scalar>]) throws {
        try byPrecision(&tensors, float: { try broadcast(&$0) }, double: { try broadcast(&$0) })
    }

    /// Hands `tensors` to `float` or `double`, whichever `Scalar` is.
    private func byPrecision<Scalar: TensorScalar>(
        _ tensors: inout [Tensor<Scalar>], float: (inout [Tensor<Float>]) throws -> Void,
        double: (inout [Tensor<Double>]) throws -> Void
    ) throws {
        if var values = tensors as? [Tensor<Float>] {
            try float(&values)
            tensors = values as! [Tensor<Scalar>]
        } else if var values = tensors as? [Tensor<Double>] {
            try double(&values)
            tensors = values as! [Tensor<Scalar>]
        } else {
            preconditionFailure("GradientReduction: tensors of \(Scalar.self) are not supported")
        }
    }
}
