/// Batch normalisation, as PyTorch's `nn.BatchNorm1d` (inputs `[N, C]` or `[N, C, L]`) and `nn.BatchNorm2d`
/// (`[N, C, H, W]`): each channel (axis 1) normalised over every other axis.
///
/// In training (`ForwardContext.isTraining`) the batch's own mean and biased variance normalise it, and the
/// running statistics move towards the batch's (`momentum`, with the unbiased variance, as PyTorch does); in
/// evaluation the running statistics are used. The running statistics are buffers (`running_mean`,
/// `running_var`, `num_batches_tracked`), saved with the parameters under PyTorch's names. They live in a
/// shared box, as a PyTorch module's do, so that a training pass through a copy of the model (the trainers
/// differentiate copies) updates the model's statistics; `buffers`' setter gives the layer a box of its own.
public struct BatchNorm<Scalar: TensorScalar>: Layer {
    /// The running statistics, shared by copies until `buffers` is set.
    final class RunningStatistics: @unchecked Sendable {
        var mean: Tensor<Scalar>
        var variance: Tensor<Scalar>
        var batchesTracked: Int
        init(mean: Tensor<Scalar>, variance: Tensor<Scalar>, batchesTracked: Int) {
            self.mean = mean
            self.variance = variance
            self.batchesTracked = batchesTracked
        }
    }

    /// The scale γ, shape `[channels]` (nil without affine parameters).
    public var weight: Tensor<Scalar>?
    /// The shift β, shape `[channels]` (nil without affine parameters).
    public var bias: Tensor<Scalar>?
    /// Added to the variance before the square root.
    public var epsilon: Double
    /// How far the running statistics move towards each batch's: new = (1 − momentum)·old + momentum·batch.
    public var momentum: Double
    private var statistics: RunningStatistics
    /// The number of channels.
    public let channels: Int

    /// Creates a layer with γ = 1, β = 0, running mean 0 and running variance 1, as PyTorch does.
    public init(channels: Int, epsilon: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) {
        precondition(channels > 0, "BatchNorm: channels must be positive, got \(channels)")
        precondition(epsilon > 0, "BatchNorm: epsilon must be positive, got \(epsilon)")
        precondition(momentum >= 0 && momentum <= 1, "BatchNorm: momentum must lie in [0, 1], got \(momentum)")
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        weight = affine ? Tensor.ones(shape: [channels]) : nil
        bias = affine ? Tensor.zeros(shape: [channels]) : nil
        statistics = RunningStatistics(mean: Tensor.zeros(shape: [channels]), variance: Tensor.ones(shape: [channels]), batchesTracked: 0)
    }

    /// The running mean, shape `[channels]`.
    public var runningMean: Tensor<Scalar> { statistics.mean }
    /// The running (unbiased) variance, shape `[channels]`.
    public var runningVariance: Tensor<Scalar> { statistics.variance }
    /// How many training batches have updated the running statistics.
    public var batchesTracked: Int { statistics.batchesTracked }

    /// Visits `weight` and `bias` (when affine) as parameters, then the buffers `running_mean`,
    /// `running_var` and `num_batches_tracked` (the batch count as a one-element tensor). Replacing a
    /// buffer gives the layer running statistics of its own, no longer shared with its copies.
    public mutating func visitTensors(with visitor: inout TensorVisitor<Scalar>) {
        visitor.visit(&weight, named: "weight")
        visitor.visit(&bias, named: "bias")
        var mean = statistics.mean, variance = statistics.variance
        var count = Tensor(Scalar(statistics.batchesTracked))
        visitor.visit(&mean, named: "running_mean", role: .buffer)
        visitor.visit(&variance, named: "running_var", role: .buffer)
        visitor.visit(&count, named: "num_batches_tracked", role: .buffer)
        guard mean != statistics.mean || variance != statistics.variance
            || count.scalarCount != 1 || count.scalars[0] != Scalar(statistics.batchesTracked)
        else { return }
        precondition(
            mean.shape == [channels] && variance.shape == [channels] && count.scalarCount == 1,
            "BatchNorm: buffer shapes \([mean.shape, variance.shape, count.shape]), expected [\(channels)], [\(channels)], []")
        statistics = RunningStatistics(
            mean: mean.detached(), variance: variance.detached(), batchesTracked: Int(count.scalars[0].rounded()))
    }

    /// Normalises each channel: by the batch's statistics in training (updating the running ones), by the
    /// running statistics in evaluation.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        precondition(
            input.rank >= 2 && input.shape[1] == channels,
            "BatchNorm: expected input of shape [n, \(channels), …], got \(input.shape)")
        let axes = [0] + Array(2..<input.rank)
        var channelShape = [Int](repeating: 1, count: input.rank)
        channelShape[1] = channels
        let normalized: Tensor<Scalar>
        if context.isTraining {
            let count = axes.reduce(1) { $0 * input.shape[$1] }
            precondition(count > 1, "BatchNorm: training needs more than one value per channel, got input shape \(input.shape)")
            let mean = input.mean(alongAxes: axes, keepingDimensions: true)
            let centered = input - mean
            let variance = (centered * centered).mean(alongAxes: axes, keepingDimensions: true)
            normalized = centered / sqrt(variance + Scalar(epsilon))
            // The running statistics take detached values: they are state, not part of the graph.
            let m = Scalar(momentum)
            let unbiased = variance.detached().reshaped(to: [channels]) * Scalar(Double(count) / Double(count - 1))
            statistics.mean = statistics.mean * (1 - m) + mean.detached().reshaped(to: [channels]) * m
            statistics.variance = statistics.variance * (1 - m) + unbiased * m
            statistics.batchesTracked += 1
        } else {
            let mean = statistics.mean.reshaped(to: channelShape)
            let scale = 1 / sqrt(statistics.variance.reshaped(to: channelShape) + Scalar(epsilon))
            normalized = (input - mean) * scale
        }
        guard let weight, let bias else { return normalized }
        return normalized * weight.reshaped(to: channelShape) + bias.reshaped(to: channelShape)
    }
}
