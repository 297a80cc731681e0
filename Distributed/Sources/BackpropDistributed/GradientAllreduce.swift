import BackpropNN

extension Communicator {
    /// Sums a step's gradients (the parameter-ordered list the optimizers take) over all ranks and divides
    /// by `divisor`. For the mean gradient of a global batch of B examples, give each rank's gradient of the
    /// SUM of its shard's per-example losses and `divisor: B`; an empty shard contributes zeros.
    ///
    /// The tensors travel in buckets of about `bucketBytes` (consecutive tensors packed together; a tensor
    /// larger than a bucket goes alone), one allreduce per bucket; the default sends all in one.
    ///
    /// ```swift
    /// let world = try Communicator()
    /// var model = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], activation: .relu, seed: 0)
    /// try world.broadcastParameters(&model.parameters)            // everyone starts from rank 0's weights
    /// var optimizer = Adam<Float>(learningRate: 1e-3)
    /// for batch in DataLoader(dataset: train, batchSize: 32, seed: 0).batches(epoch: 0) {
    ///     let n = batch.labels.count
    ///     let mine = (world.rank * n / world.size) ..< ((world.rank + 1) * n / world.size)
    ///     var gradients = model.parameters.map { Tensor<Float>.zeros(shape: $0.shape) }
    ///     if !mine.isEmpty {
    ///         let x = batch.features.slicing(mine, alongAxis: 0), y = Array(batch.labels[mine])
    ///         let network = model
    ///         gradients = gradient(at: model.parameters) { p in
    ///             var m = network; m.parameters = p
    ///             return softmaxCrossEntropy(logits: m(x), labels: y) * Float(mine.count)  // summed loss
    ///         }
    ///     }
    ///     let mean = try world.allreduceGradients(gradients, dividingBy: n)  // same on every rank
    ///     optimizer.update(&model.parameters, along: mean)
    /// }
    /// world.finalize()
    /// ```
    public func allreduceGradients(
        _ gradients: [Tensor<Float>], dividingBy divisor: Int, bucketBytes: Int = .max
    ) throws -> [Tensor<Float>] {
        var sums = gradients
        try sumInBuckets(&sums, bucketBytes: bucketBytes)
        let scale = 1 / Float(divisor)
        return sums.map { $0 * scale }
    }

    /// Sums `tensors` over all ranks in place, one allreduce per bucket of about `bucketBytes`.
    public func sumInBuckets(_ tensors: inout [Tensor<Float>], bucketBytes: Int = .max) throws {
        try inBuckets(&tensors, bucketBytes: bucketBytes) { try allreduceSum(&$0) }
    }

    /// Sums `tensors` over all ranks in place, one allreduce per bucket of about `bucketBytes`.
    public func sumInBuckets(_ tensors: inout [Tensor<Double>], bucketBytes: Int = .max) throws {
        try inBuckets(&tensors, bucketBytes: bucketBytes) { try allreduceSum(&$0) }
    }

    /// Replaces every rank's parameters with rank 0's (for a resumed or differently initialised run).
    public func broadcastParameters(_ parameters: inout [Tensor<Float>]) throws {
        try inBuckets(&parameters, bucketBytes: .max) { try broadcast(&$0) }
    }

    /// Replaces every rank's tensors with rank 0's.
    public func broadcastParameters(_ parameters: inout [Tensor<Double>]) throws {
        try inBuckets(&parameters, bucketBytes: .max) { try broadcast(&$0) }
    }

    /// Packs consecutive tensors into flat buffers of about `bucketBytes`, hands each to `exchange`, and
    /// unpacks the results in place.
    func inBuckets<Scalar: TensorScalar>(
        _ tensors: inout [Tensor<Scalar>], bucketBytes: Int, _ exchange: (inout [Scalar]) throws -> Void
    ) throws {
        let limit = Swift.max(1, bucketBytes / MemoryLayout<Scalar>.stride)
        var start = 0
        while start < tensors.count {
            var end = start + 1
            var count = tensors[start].scalarCount
            while end < tensors.count, count + tensors[end].scalarCount <= limit {
                count += tensors[end].scalarCount
                end += 1
            }
            var flat = [Scalar]()
            flat.reserveCapacity(count)
            for tensor in tensors[start..<end] { flat.append(contentsOf: tensor.scalars) }
            try exchange(&flat)
            var offset = 0
            for index in start..<end {
                let n = tensors[index].scalarCount
                tensors[index] = Tensor(shape: tensors[index].shape, scalars: Array(flat[offset..<offset + n]))
                offset += n
            }
            start = end
        }
    }
}
