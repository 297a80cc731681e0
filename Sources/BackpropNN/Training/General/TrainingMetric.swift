/// A number measured on the model's outputs while training and evaluating, beside the loss.
///
/// A metric is a total and a count per batch (correct predictions and examples, absolute errors and
/// values), so that it adds up over the batches of an epoch and over the workers of a data-parallel run
/// exactly; `finish` turns the overall mean into the reported value (the square root, for an RMSE).
public struct TrainingMetric<Scalar: TensorScalar, Batch> {
    /// The name it is reported under (`accuracy`, `mae`).
    public let name: String
    /// The total and the count of one batch, from the model's output on it.
    public let measure: (_ output: Tensor<Scalar>, _ batch: Batch) -> (total: Double, count: Double)
    /// The reported value from the mean total / count over everything measured.
    public let finish: (_ mean: Double) -> Double

    /// Creates a metric.
    public init(
        name: String, measure: @escaping (_ output: Tensor<Scalar>, _ batch: Batch) -> (total: Double, count: Double),
        finish: @escaping (_ mean: Double) -> Double = { $0 }
    ) {
        self.name = name
        self.measure = measure
        self.finish = finish
    }
}

extension TrainingMetric where Batch == Dataset<Scalar> {
    /// The fraction of examples whose largest output is their label (`accuracy`).
    public static var accuracy: TrainingMetric {
        TrainingMetric(name: "accuracy") { logits, batch in
            (Double(zip(predictedClasses(logits), batch.labels).filter { $0 == $1 }.count), Double(batch.labels.count))
        }
    }

    /// The mean absolute difference between outputs and targets (`mae`).
    public static var meanAbsoluteError: TrainingMetric {
        TrainingMetric(name: "mae") { prediction, batch in
            let errors = differences(prediction, batch).map { Swift.abs($0) }
            return (errors.reduce(0, +), Double(errors.count))
        }
    }

    /// The square root of the mean squared difference between outputs and targets (`rmse`).
    public static var rootMeanSquaredError: TrainingMetric {
        TrainingMetric(name: "rmse", measure: { prediction, batch in
            let errors = differences(prediction, batch).map { $0 * $0 }
            return (errors.reduce(0, +), Double(errors.count))
        }, finish: { $0.squareRoot() })
    }
}

/// Output minus target, element by element.
///
/// - Precondition: the batch has targets of the output's shape.
private func differences<Scalar>(_ prediction: Tensor<Scalar>, _ batch: Dataset<Scalar>) -> [Double] {
    guard let targets = batch.targets, targets.shape == prediction.shape else {
        preconditionFailure("TrainingMetric: outputs of shape \(prediction.shape) need targets of that shape, got \(batch.targets.map { "\($0.shape)" } ?? "none")")
    }
    return zip(prediction.scalars, targets.scalars).map { Double($0) - Double($1) }
}
