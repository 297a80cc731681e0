/// The data-parallel side of `ClassifierTrainer`'s evaluation: totals summed over the workers (see
/// `GradientReduction`; the training step's is `Trainer`'s).
extension ClassifierTrainer {
    /// The mean loss and the confusion matrix of the model on `data`, in evaluation mode. With a
    /// `gradientReduction`, each worker evaluates its slice of `data` and the loss sums and counts are summed
    /// over the workers, so every worker returns the totals of the whole set; without one, this is
    /// `evaluate(on:)` tallied.
    public func evaluationTotals(on data: Dataset<Scalar>) throws -> EvaluationTotals {
        try Self.evaluationTotals(of: model, on: data, classCount: classCount, reduction: gradientReduction)
    }

    /// `model`'s mean loss and confusion matrix on `data`, summed over the workers of `reduction`.
    static func evaluationTotals(
        of model: Sequential<Scalar>, on data: Dataset<Scalar>, classCount: Int, reduction: (any GradientReduction)?
    ) throws -> EvaluationTotals {
        guard let reduction else {
            let evaluation = evaluate(model, on: data)
            return EvaluationTotals(
                loss: evaluation.loss,
                confusion: ConfusionMatrix(predictions: evaluation.predictions, labels: data.labels, classCount: classCount))
        }
        let shard = reduction.shard(ofBatchOf: data.count)
        var sums = [Double](repeating: 0, count: 1 + classCount * classCount)  // loss sum, then counts[true][predicted]
        if !shard.isEmpty {
            let part = Dataset(features: data.features.slicing(shard, alongAxis: 0), labels: Array(data.labels[shard]))
            let evaluation = evaluate(model, on: part)
            sums[0] = evaluation.loss * Double(part.count)
            for (predicted, actual) in zip(evaluation.predictions, part.labels) { sums[1 + actual * classCount + predicted] += 1 }
        }
        try reduction.sum(&sums)
        let counts = (0..<classCount).map { row in sums[1 + row * classCount ..< 1 + (row + 1) * classCount].map { Int($0) } }
        return EvaluationTotals(loss: data.count > 0 ? sums[0] / Double(data.count) : .nan, confusion: ConfusionMatrix(counts: counts))
    }
}
