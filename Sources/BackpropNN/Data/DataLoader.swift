/// Mini-batches over a data set, in an order that depends only on the seed and the epoch number, so
/// runs are reproducible and a resumed run sees exactly the batches it would have seen.
///
/// ```swift
/// let loader = DataLoader(dataset: train, batchSize: 32, shuffles: true, seed: 7)
/// for epoch in 0..<10 {
///     for batch in loader.batches(epoch: epoch) { /* batch.features, batch.labels */ }
/// }
/// ```
public struct DataLoader<Scalar: TensorScalar>: Sequence, Sendable {
    /// One mini-batch: features `[b, d]`, the `b` labels (empty without labels) and targets `[b, k]`.
    public typealias Batch = (features: Tensor<Scalar>, labels: [Int], targets: Tensor<Scalar>?)

    /// The examples.
    public let dataset: Dataset<Scalar>
    /// Examples per batch (the last batch of an epoch may be smaller unless `dropsLast`).
    public let batchSize: Int
    /// Whether each epoch visits the examples in a fresh seeded order (otherwise in data-set order).
    public let shuffles: Bool
    /// Seeds the per-epoch orders.
    public let seed: UInt64
    /// Whether to skip a final batch smaller than `batchSize`.
    public let dropsLast: Bool
    /// The epoch that iterating the loader itself (`for batch in loader`) produces.
    public var epoch: Int

    /// Creates a loader.
    ///
    /// - Precondition: `batchSize > 0`.
    public init(
        dataset: Dataset<Scalar>, batchSize: Int, shuffles: Bool = true, seed: UInt64 = 0, dropsLast: Bool = false,
        epoch: Int = 0
    ) {
        precondition(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffles = shuffles
        self.seed = seed
        self.dropsLast = dropsLast
        self.epoch = epoch
    }

    /// The number of batches in each epoch.
    public var batchCount: Int {
        // Not (count + batchSize - 1) / batchSize, which overflows for a batch size near Int.max.
        dataset.count / batchSize + (dropsLast || dataset.count % batchSize == 0 ? 0 : 1)
    }

    /// The order in which epoch `epoch` visits the examples.
    public func order(epoch: Int) -> [Int] {
        guard shuffles else { return Array(0..<dataset.count) }
        // Mix the epoch into the seed (SplitMix64's golden-ratio increment) so epochs differ.
        return seededPermutation(count: dataset.count, seed: seed &+ UInt64(bitPattern: Int64(epoch)) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// The batches of epoch `epoch`.
    public func batches(epoch: Int) -> Batches {
        Batches(loader: self, order: order(epoch: epoch))
    }

    /// Iterates the batches of `epoch`.
    public func makeIterator() -> Batches.Iterator { batches(epoch: epoch).makeIterator() }

    /// The batches of one epoch, in order.
    public struct Batches: Sequence, Sendable {
        fileprivate let loader: DataLoader
        fileprivate let order: [Int]

        /// The number of batches.
        public var count: Int { loader.batchCount }

        /// Iterates the batches.
        public func makeIterator() -> Iterator {
            Iterator(
                loader: loader, order: order, features: loader.dataset.features.scalars,
                targets: loader.dataset.targets?.scalars)
        }

        /// Produces the batches one at a time, copying each batch's rows as contiguous blocks.
        public struct Iterator: IteratorProtocol, Sendable {
            fileprivate let loader: DataLoader
            fileprivate let order: [Int]
            fileprivate let features: [Scalar]
            fileprivate let targets: [Scalar]?
            fileprivate var position = 0

            fileprivate init(loader: DataLoader, order: [Int], features: [Scalar], targets: [Scalar]?) {
                self.loader = loader
                self.order = order
                self.features = features
                self.targets = targets
            }

            /// The next batch, or nil at the end of the epoch.
            public mutating func next() -> Batch? {
                let remaining = order.count - position
                guard remaining > 0 else { return nil }
                let size = Swift.min(loader.batchSize, remaining)
                if size < loader.batchSize && loader.dropsLast { return nil }
                let indices = Array(order[position..<(position + size)])
                position += size
                let dataset = loader.dataset
                let width = dataset.featureCount
                let batchFeatures = Tensor(
                    shape: [size, width], scalars: gatherRows(features, rowWidth: width, indices: indices))
                var batchTargets: Tensor<Scalar>?
                if let targets, let targetShape = dataset.targets?.shape {
                    batchTargets = Tensor(
                        shape: [size, targetShape[1]],
                        scalars: gatherRows(targets, rowWidth: targetShape[1], indices: indices))
                }
                let labels = dataset.labels.isEmpty ? [] : indices.map { dataset.labels[$0] }
                return (features: batchFeatures, labels: labels, targets: batchTargets)
            }
        }
    }
}
