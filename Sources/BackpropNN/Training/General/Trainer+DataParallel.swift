/// The data-parallel step of `Trainer` (see `GradientReduction`).
extension Trainer {
    /// One gradient step on this worker's shard of a global batch: the gradient of the shard's summed
    /// per-example losses, summed over the workers and divided by the batch size (the single-process mean
    /// gradient), then clipped and applied identically on every worker. Returns the batch's totals over all
    /// workers and whether loss and gradients were finite (every worker decides alike, on the summed values;
    /// when not, no update is applied).
    mutating func shardedStep(on batch: Batch, seed: UInt64, reduction: any GradientReduction) throws -> TrainingStep {
        let shard = reduction.shard(ofBatchOf: batch.exampleCount)
        var gradients: [Tensor<Scalar>]
        var totals = StepTotals(metricCount: metrics.count)
        if shard.isEmpty {
            gradients = model.parameters.map { Tensor<Scalar>.zeros(shape: $0.shape) }
        } else {
            // Worker 0 draws the single-process run's dropout masks; the others draw masks of their own.
            let context = ForwardContext(mode: .training, seed: seed ^ (UInt64(reduction.workerIndex) &* 0xD6E8_FEB8_6659_FD93))
            let part = batch.examples(shard)
            let (loss, shardGradients, output) = lossAndGradients(on: part, context: context, lossScale: Scalar(part.exampleCount))
            gradients = shardGradients
            totals.record(loss: Double(loss.scalar) / Double(part.exampleCount), of: part, output: output, metrics: metrics)
        }
        try reduction.sum(generic: &gradients)
        try totals.sum(over: reduction)
        let scale = 1 / Scalar(batch.exampleCount)
        gradients = gradients.map { $0 * scale }
        guard totals.lossSum.isFinite, allFinite(gradients) else { return TrainingStep(totals: totals, isFinite: false) }
        update(along: &gradients)
        return TrainingStep(totals: totals, isFinite: true)
    }
}
