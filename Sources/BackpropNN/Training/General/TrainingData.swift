/// One batch of training examples, as `Trainer` needs it: how many examples it holds (the mean loss averages
/// over them) and the part of it one worker computes on in data-parallel training.
public protocol TrainingBatch {
    /// The number of examples.
    var exampleCount: Int { get }
    /// The examples at `range` (of `0..<exampleCount`), in order.
    func examples(_ range: Range<Int>) -> Self
}

/// Where a `Trainer` takes its batches from: each epoch's batches in a seeded order, and the batches of an
/// evaluation in a fixed one.
public protocol TrainingData<Batch> {
    /// The batch type.
    associatedtype Batch: TrainingBatch
    /// The batches of epoch `epoch`, every example once, in an order drawn from `seed` and `epoch` (the same
    /// on every machine, so that a resumed run sees the batches of an uninterrupted one).
    func batches(epoch: Int, batchSize: Int, seed: UInt64) -> [Batch]
    /// Every example once, in order, in batches of at most `batchSize`.
    func evaluationBatches(batchSize: Int) -> [Batch]
}

extension Dataset: TrainingBatch {
    /// `count`.
    public var exampleCount: Int { count }

    /// The examples at `range`: rows of the features and targets, and their labels.
    public func examples(_ range: Range<Int>) -> Dataset {
        Dataset(
            features: features.slicing(range, alongAxis: 0), labels: labels.isEmpty ? [] : Array(labels[range]),
            targets: targets?.slicing(range, alongAxis: 0), labelValues: labelValues)
    }
}

extension Dataset: TrainingData {
    /// A `DataLoader`'s shuffled batches of epoch `epoch`.
    public func batches(epoch: Int, batchSize: Int, seed: UInt64) -> [Dataset] {
        DataLoader(dataset: self, batchSize: batchSize, shuffles: true, seed: seed).batches(epoch: epoch).map { batch in
            Dataset(features: batch.features, labels: batch.labels, targets: batch.targets, labelValues: labelValues)
        }
    }

    /// Consecutive slices of at most `batchSize` examples.
    public func evaluationBatches(batchSize: Int) -> [Dataset] {
        stride(from: 0, to: count, by: Swift.max(batchSize, 1)).map { examples($0..<Swift.min(count, $0 + batchSize)) }
    }
}
