/// The data-parallel side of `ClassifierTrainer`: a gradient step on this worker's shard of a batch, and an
/// evaluation whose totals are summed over the workers (see `GradientReduction`).
extension ClassifierTrainer {
    /// One gradient step on this worker's shard of a global batch: the gradient of the shard's summed
    /// per-example losses, summed over the workers and divided by the batch size (the single-process mean
    /// gradient), then clipped and applied identically on every worker. Returns the batch's mean loss and
    /// correct count over all workers, and whether loss and gradients were finite (every worker decides
    /// alike, on the summed values; when not, no update is applied).
    mutating func shardedStep(
        features: Tensor<Scalar>, labels: [Int], seed: UInt64, reduction: any GradientReduction
    ) throws -> (Double, Int, Bool) {
        let shard = reduction.shard(ofBatchOf: labels.count)
        var gradients: [Tensor<Scalar>]
        var statistics = [0.0, 0.0]  // summed loss, correct predictions
        if shard.isEmpty {
            gradients = model.parameters.map { Tensor<Scalar>.zeros(shape: $0.shape) }
        } else {
            // Worker 0 draws the single-process run's dropout masks; the others draw masks of their own.
            let context = ForwardContext(mode: .training, seed: seed ^ (UInt64(reduction.workerIndex) &* 0xD6E8_FEB8_6659_FD93))
            let shardLabels = Array(labels[shard])
            let (loss, shardGradients, logits) = lossAndGradients(
                features: features.slicing(shard, alongAxis: 0), labels: shardLabels, context: context,
                lossScale: Scalar(shardLabels.count))
            gradients = shardGradients
            let correct = zip(predictedClasses(logits), shardLabels).filter { $0 == $1 }.count
            statistics = [Double(loss.scalar), Double(correct)]
        }
        try reduction.sum(generic: &gradients)
        try reduction.sum(&statistics)
        let scale = 1 / Scalar(labels.count)
        gradients = gradients.map { $0 * scale }
        let loss = statistics[0] / Double(labels.count)
        guard loss.isFinite, allFinite(gradients) else { return (loss, Int(statistics[1]), false) }
        update(along: &gradients)
        return (loss, Int(statistics[1]), true)
    }

    /// The mean loss and the confusion matrix of the model on `data`, in evaluation mode. With a
    /// `gradientReduction`, each worker evaluates its slice of `data` and the loss sums and counts are summed
    /// over the workers, so every worker returns the totals of the whole set; without one, this is
    /// `evaluate(on:)` tallied.
    public func evaluationTotals(on data: Dataset<Scalar>) throws -> EvaluationTotals {
        guard let reduction = gradientReduction else {
            let evaluation = evaluate(on: data)
            return EvaluationTotals(
                loss: evaluation.loss,
                confusion: ConfusionMatrix(predictions: evaluation.predictions, labels: data.labels, classCount: classCount))
        }
        let shard = reduction.shard(ofBatchOf: data.count)
        var sums = [Double](repeating: 0, count: 1 + classCount * classCount)  // loss sum, then counts[true][predicted]
        if !shard.isEmpty {
            let part = Dataset(features: data.features.slicing(shard, alongAxis: 0), labels: Array(data.labels[shard]))
            let evaluation = evaluate(on: part)
            sums[0] = evaluation.loss * Double(part.count)
            for (predicted, actual) in zip(evaluation.predictions, part.labels) { sums[1 + actual * classCount + predicted] += 1 }
        }
        try reduction.sum(&sums)
        let counts = (0..<classCount).map { row in sums[1 + row * classCount ..< 1 + (row + 1) * classCount].map { Int($0) } }
        return EvaluationTotals(loss: data.count > 0 ? sums[0] / Double(data.count) : .nan, confusion: ConfusionMatrix(counts: counts))
    }
}
