import BackpropNN

/// `GradientReduction` over MPI: plugs a `Communicator` into `ClassifierTrainer` (or `backprop-mpi train`)
/// for data-parallel training, one rank a worker. Gradients travel in buckets of `bucketBytes`.
///
/// ```swift
/// let world = try Communicator()
/// var trainer = ClassifierTrainer<Float>(configuration: TrainingConfiguration(), inputSize: 64, classCount: 10)
/// trainer.gradientReduction = MPIGradientReduction(world, bucketBytes: 4 << 20)
/// try trainer.train(on: train, evaluatingOn: test)   // every rank ends with the same model
/// ```
public final class MPIGradientReduction: GradientReduction {
    /// The MPI world the workers belong to.
    public let communicator: Communicator
    /// About how many bytes of gradients each allreduce carries.
    public let bucketBytes: Int
    /// Seconds spent in gradient allreduces so far (including waiting for slower ranks).
    public private(set) var gradientSeconds = 0.0
    /// Gradient allreduce calls so far (one a step; each sends one or more buckets).
    public private(set) var gradientReductions = 0

    /// Creates the reduction over `communicator`'s ranks.
    ///
    /// - Precondition: `bucketBytes` is positive.
    public init(_ communicator: Communicator, bucketBytes: Int = 25 << 20) {
        precondition(bucketBytes > 0, "MPIGradientReduction: bucketBytes must be positive")
        self.communicator = communicator
        self.bucketBytes = bucketBytes
    }

    /// This rank.
    public var workerIndex: Int { communicator.rank }
    /// The number of ranks.
    public var workerCount: Int { communicator.size }

    /// Sums gradients over the ranks, bucket by bucket.
    public func sum(_ gradients: inout [Tensor<Float>]) throws {
        try timed { try communicator.sumInBuckets(&gradients, bucketBytes: bucketBytes) }
    }

    /// Sums gradients over the ranks, bucket by bucket.
    public func sum(_ gradients: inout [Tensor<Double>]) throws {
        try timed { try communicator.sumInBuckets(&gradients, bucketBytes: bucketBytes) }
    }

    /// Runs one gradient allreduce, adding its time to `gradientSeconds`.
    private func timed(_ body: () throws -> Void) rethrows {
        let clock = ContinuousClock()
        let start = clock.now
        defer {
            let (seconds, attoseconds) = (clock.now - start).components
            gradientSeconds += Double(seconds) + Double(attoseconds) * 1e-18
            gradientReductions += 1
        }
        try body()
    }

    /// Sums statistics over the ranks.
    public func sum(_ values: inout [Double]) throws { try communicator.allreduceSum(&values) }

    /// Replaces the tensors with rank 0's.
    public func broadcast(_ tensors: inout [Tensor<Float>]) throws { try communicator.broadcastParameters(&tensors) }

    /// Replaces the tensors with rank 0's.
    public func broadcast(_ tensors: inout [Tensor<Double>]) throws { try communicator.broadcastParameters(&tensors) }
}
