import Foundation

/// A table of examples: a feature matrix with class labels (classification) and/or regression targets.
///
/// Rows of `features`, entries of `labels` and rows of `targets` describe the same example.
public struct Dataset<Scalar: TensorScalar>: Sendable {
    /// The features, shape `[count, featureCount]`.
    public var features: Tensor<Scalar>
    /// The class label of each example, each in `0..<classCount`; empty for a pure regression data set.
    public var labels: [Int]
    /// Regression targets, shape `[count, targetCount]`, or nil for classification.
    public var targets: Tensor<Scalar>?
    /// The original value of each class when a file's labels were not already `0, 1, 2, …`:
    /// class `k` stands for `labelValues[k]` (for example `[-1, 1]` for labels −1/+1). Nil when the
    /// labels are used as they were.
    public var labelValues: [Double]?

    /// Creates a data set.
    ///
    /// - Precondition: `features` has rank 2; `labels` is empty or has one non-negative entry per row;
    ///   `targets`, if any, has rank 2 and one row per example.
    public init(features: Tensor<Scalar>, labels: [Int], targets: Tensor<Scalar>? = nil, labelValues: [Double]? = nil) {
        precondition(features.rank == 2, "Dataset: features must have shape [n, d], got \(features.shape)")
        precondition(
            labels.isEmpty || labels.count == features.shape[0],
            "Dataset: \(labels.count) labels for \(features.shape[0]) examples")
        precondition(labels.allSatisfy { $0 >= 0 }, "Dataset: labels must be non-negative")
        if let targets {
            precondition(
                targets.rank == 2 && targets.shape[0] == features.shape[0],
                "Dataset: targets must have shape [\(features.shape[0]), k], got \(targets.shape)")
        }
        self.features = features
        self.labels = labels
        self.targets = targets
        self.labelValues = labelValues
    }

    /// The number of examples.
    public var count: Int { features.shape[0] }

    /// The number of features per example.
    public var featureCount: Int { features.shape[1] }

    /// The number of classes: the largest label plus one (or the number of `labelValues`), 0 without labels.
    public var classCount: Int { Swift.max(labelValues?.count ?? 0, (labels.max() ?? -1) + 1) }

    /// The examples at `indices`, in that order (repeats allowed).
    ///
    /// - Precondition: every index lies in `0..<count`.
    public func subset(_ indices: [Int]) -> Dataset {
        let rows = gatherRows(features.scalars, rowWidth: featureCount, indices: indices)
        let subsetTargets = targets.map { targets in
            Tensor(
                shape: [indices.count, targets.shape[1]],
                scalars: gatherRows(targets.scalars, rowWidth: targets.shape[1], indices: indices))
        }
        return Dataset(
            features: Tensor(shape: [indices.count, featureCount], scalars: rows),
            labels: labels.isEmpty ? [] : indices.map { labels[$0] },
            targets: subsetTargets,
            labelValues: labelValues)
    }

    /// Splits the examples at random into a training part and a test part.
    ///
    /// The order comes from a seeded shuffle that is identical on every machine, so the same seed
    /// always gives the same split.
    ///
    /// - Parameters:
    ///   - testFraction: the share of examples in the test part, in [0, 1]; the test size is rounded
    ///     to the nearest integer.
    ///   - seed: seeds the shuffle.
    public func split(testFraction: Double, seed: UInt64) -> (train: Dataset, test: Dataset) {
        precondition(testFraction >= 0 && testFraction <= 1, "Dataset.split: testFraction must lie in [0, 1], got \(testFraction)")
        let order = seededPermutation(count: count, seed: seed)
        let testCount = Swift.min(count, Int((Double(count) * testFraction).rounded()))
        return (train: subset(Array(order[testCount...])), test: subset(Array(order[..<testCount])))
    }

    /// The 8×8 handwritten digits bundled with the package (1797 examples, the UCI/scikit-learn set):
    /// 64 features scaled from 0…16 to 0…1, labels 0…9.
    public static func digits() throws -> Dataset {
        guard let url = Bundle.module.url(forResource: "digits", withExtension: "csv") else {
            throw DataError(.fileNotFound, "the bundled resource digits.csv is missing", file: "digits.csv")
        }
        var dataset = try Dataset(csvAt: url, hasHeader: false)
        let scale = Scalar(digitsScale)
        dataset.features = Tensor(shape: dataset.features.shape, scalars: dataset.features.scalars.map { $0 * scale })
        return dataset
    }

    /// The factor `digits()` multiplies the file's pixel values (0…16) by: 1/16. A model trained on them
    /// takes raw rows scaled by it (see `InputPreprocessing`).
    public static var digitsScale: Double { 1.0 / 16 }
}
