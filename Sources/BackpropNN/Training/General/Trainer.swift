/// Trains any model on any loss: mini-batch gradient descent, one epoch at a time, with the optimizer,
/// learning-rate schedule, gradient clipping, progress reports, metrics, divergence checks, checkpoints
/// and data-parallel reduction that `ClassifierTrainer` (built on it) has.
///
/// ```swift
/// var trainer = Trainer(
///     model: Regressor(), optimizer: Adam<Float>(learningRate: 0.01),
///     settings: TrainingSettings(epochs: 100, batchSize: 32), loss: .meanSquaredError, metrics: [.meanAbsoluteError])
/// try trainer.train(on: train, evaluatingOn: test)
/// print(trainer.history.last!.testMetrics["mae"]!)
/// ```
///
/// A run is a function of its settings and data: each epoch's batches and every dropout mask come from
/// `settings.seed`, so the same run twice, or a run resumed from its checkpoint, gives the same numbers.
///
/// With `compilesSteps`, each step's forward pass, loss and gradient run through a compiled program; the
/// metrics, the divergence checks, clipping and the optimizer's update run on the host around it.
public struct Trainer<Model: Layer, Batch: TrainingBatch> {
    /// The scalar type of the model's tensors.
    public typealias Scalar = Model.Scalar

    /// The model being trained.
    public var model: Model
    /// The optimizer and its state.
    public var optimizer: any Optimizer<Scalar>
    /// Epochs, batch size, learning rate, schedule, clipping and seed.
    public var settings: TrainingSettings
    /// What is minimised.
    public let loss: TrainingLoss<Model, Batch>
    /// What is measured beside the loss, in training and evaluation.
    public let metrics: [TrainingMetric<Scalar, Batch>]
    /// One record per completed epoch.
    public var history: [TrainingRecord] = []
    /// How gradient steps and evaluations are shared with other workers (data parallelism), or nil (the
    /// default) to train in this process alone. See `GradientReduction`.
    public var gradientReduction: (any GradientReduction)? = nil
    /// Examples per batch when evaluating (evaluation needs no gradient, so it can take more at once).
    public var evaluationBatchSize = 512
    /// The learning rate the schedule starts from: `settings.learningRate`, or the optimizer's own.
    public let baseLearningRate: Double
    /// Whether each training step (forward pass, loss and gradient) runs through a compiled program, traced
    /// on the first batch of each shape and replayed afterwards (true), or eagerly (false, the default here,
    /// because a model of your own may read a value on the host in its forward pass, which a trace cannot
    /// follow; `ClassifierTrainer`, whose layers are all traceable, turns it on). Both give the same
    /// parameters and losses up to rounding; dropout draws the same masks. A step is compiled only when
    /// the loss has a `tensorForm` and the model has no buffers (`BatchNorm`'s running statistics, which a
    /// training pass updates): otherwise it runs eagerly, and `eagerStepReason` says why. Inside
    /// `withAnomalyDetection` the step runs uncompiled, so the checks see every operation.
    public var compilesSteps = false
    /// The compiled step, made once (copies of the trainer share it) when the loss has a tensor form.
    let compiledStep: CompiledTrainingStep<Model>?

    /// Creates a trainer.
    ///
    /// - Parameters:
    ///   - model: the model to train (its current parameters are the starting point).
    ///   - optimizer: the update rule; its learning rate (or `settings.learningRate`, when given) is where the
    ///     schedule starts, and the schedule sets it at each epoch.
    ///   - settings: epochs, batch size, learning rate and schedule, clipping, seed.
    ///   - loss: the batch's mean loss (see `TrainingLoss` for the ready-made ones).
    ///   - metrics: what else to measure, by name.
    public init(
        model: Model, optimizer: any Optimizer<Scalar>, settings: TrainingSettings, loss: TrainingLoss<Model, Batch>,
        metrics: [TrainingMetric<Scalar, Batch>] = []
    ) {
        precondition(
            Set(metrics.map(\.name)).count == metrics.count, "Trainer: metric names must differ, got \(metrics.map(\.name))")
        self.model = model
        self.optimizer = optimizer
        self.settings = settings
        baseLearningRate = settings.learningRate ?? optimizer.learningRate
        self.loss = loss
        self.metrics = metrics
        compiledStep = loss.tensorForm.map { CompiledTrainingStep($0.evaluate) }
    }

    /// Why training steps run eagerly although `compilesSteps` is on, as a sentence (nil when they are
    /// compiled, or when `compilesSteps` is off).
    public var eagerStepReason: String? {
        guard compilesSteps else { return nil }
        if loss.tensorForm == nil {
            return "the loss is a closure of the batch, with no tensor form to compile (see TrainingLoss.init(tensors:evaluate:))"
        }
        if !model.buffers.isEmpty {
            return "the model has buffers (such as BatchNorm's running statistics), which a training forward pass updates"
        }
        return nil
    }

    /// The number of epochs trained so far.
    public var completedEpochs: Int { history.count }

    /// Trains the remaining epochs (up to `settings.epochs`), evaluating on `test` after each, and returns
    /// their records. `progress` is called after every batch.
    ///
    /// - Throws: `TrainingDiverged` (see `trainEpoch(on:evaluatingOn:progress:)`); the epochs completed
    ///   before stay in `history`.
    @discardableResult
    public mutating func train<Data: TrainingData<Batch>>(
        on train: Data, evaluatingOn test: Data? = nil, progress: ((TrainingProgress) -> Void)? = nil
    ) throws -> [TrainingRecord] {
        var records: [TrainingRecord] = []
        while completedEpochs < settings.epochs {
            records.append(try trainEpoch(on: train, evaluatingOn: test, progress: progress))
        }
        return records
    }

    /// Trains one epoch, every batch of `train` in this epoch's seeded order with one update each, then
    /// evaluates on `test` when given.
    ///
    /// - Throws: `TrainingDiverged` at the first batch whose loss or gradient is not finite, before that
    ///   batch's update, or when a parameter, a buffer or the held-out loss is not finite after the epoch's
    ///   last update; the epoch is then not recorded.
    @discardableResult
    public mutating func trainEpoch<Data: TrainingData<Batch>>(
        on train: Data, evaluatingOn test: Data? = nil, progress: ((TrainingProgress) -> Void)? = nil
    ) throws -> TrainingRecord {
        try trainEpoch(on: train, progress: progress) { trainer in try test.map { try trainer.evaluate(on: $0) } }
    }

    /// Trains one epoch on `train`, then records what `evaluation` returns for the trained model as the
    /// epoch's held-out figures (nil: none), for an evaluation of one's own (`ClassifierTrainer` tallies a
    /// confusion matrix).
    ///
    /// - Throws: as `trainEpoch(on:evaluatingOn:progress:)`, and whatever `evaluation` throws.
    @discardableResult
    public mutating func trainEpoch<Data: TrainingData<Batch>>(
        on train: Data, progress: ((TrainingProgress) -> Void)? = nil,
        evaluation: (Trainer) throws -> TrainingEvaluation?
    ) throws -> TrainingRecord {
        let epoch = completedEpochs
        let learningRate = settings.schedule.learningRate(base: baseLearningRate, epoch: epoch)
        optimizer.learningRate = learningRate
        let batches = train.batches(epoch: epoch, batchSize: settings.batchSize, seed: settings.seed)
        let clock = ContinuousClock()
        let start = clock.now
        var totals = StepTotals(metricCount: metrics.count)
        for (index, batch) in batches.enumerated() {
            let seed = settings.batchSeed(epoch: epoch, batch: index)
            let step = try gradientReduction.map { try shardedStep(on: batch, seed: seed, reduction: $0) }
                ?? self.step(on: batch, context: ForwardContext(mode: .training, seed: seed))
            guard step.isFinite else {
                let loss = step.totals.lossSum / Double(Swift.max(step.totals.examples, 1))
                throw TrainingDiverged(epoch: epoch + 1, batch: index + 1, batches: batches.count, loss: loss, cause: loss.isFinite ? .gradient : .loss)
            }
            totals.add(step.totals)
            if let progress {
                let elapsed = (clock.now - start).seconds
                let measured = metricValues(totals)
                progress(
                    TrainingProgress(
                        epoch: epoch + 1, epochs: settings.epochs, batch: index + 1, batches: batches.count,
                        loss: totals.lossSum / Double(totals.examples), accuracy: measured["accuracy"] ?? .nan,
                        metrics: measured, examplesPerSecond: elapsed > 0 ? Double(totals.examples) / elapsed : 0,
                        elapsedSeconds: elapsed))
            }
        }
        let seconds = (clock.now - start).seconds
        if let reduction = gradientReduction, !model.buffers.isEmpty {
            // Per-shard batch statistics moved each worker's running statistics differently: take worker 0's.
            try reduction.broadcast(generic: &model.buffers)
        }
        let trainLoss = totals.examples > 0 ? totals.lossSum / Double(totals.examples) : .nan
        // The last update's loss and gradients were finite, but the step itself can overflow (a learning rate
        // of 1e30, say): nothing not finite may reach the history, nor a checkpoint written from it.
        guard allFinite(model.parameters), allFinite(model.buffers) else {
            throw TrainingDiverged(epoch: epoch + 1, batch: batches.count, batches: batches.count, loss: trainLoss, cause: .parameters)
        }
        let held = try evaluation(self)
        if let held, held.count > 0, !held.loss.isFinite {
            throw TrainingDiverged(epoch: epoch + 1, batch: batches.count, batches: batches.count, loss: held.loss, cause: .testLoss)
        }
        let record = TrainingRecord(
            epoch: epoch + 1, learningRate: learningRate, trainLoss: trainLoss, trainMetrics: metricValues(totals),
            testLoss: held?.loss, testMetrics: held?.metrics ?? [:], seconds: seconds)
        history.append(record)
        return record
    }

    /// One gradient step on `batch`: its mean loss and metrics before the update, and whether the loss and
    /// gradients were finite; only then is the update applied.
    public mutating func step(on batch: Batch, context: ForwardContext) -> TrainingStep {
        var (loss, gradients, output) = lossAndGradients(on: batch, context: context)
        var totals = StepTotals(metricCount: metrics.count)
        totals.record(loss: Double(loss.scalar), of: batch, output: output, metrics: metrics)
        guard loss.scalar.isFinite, allFinite(gradients) else { return TrainingStep(totals: totals, isFinite: false) }
        update(along: &gradients)
        return TrainingStep(totals: totals, isFinite: true)
    }

    /// The batch's mean loss (times `lossScale` when given: the summed loss for a worker's shard), its
    /// gradients with respect to the parameters, and the output (detached).
    func lossAndGradients(
        on batch: Batch, context: ForwardContext, lossScale: Scalar? = nil
    ) -> (Tensor<Scalar>, [Tensor<Scalar>], Tensor<Scalar>) {
        if compilesSteps, context.isTraining, let compiledStep, let form = loss.tensorForm, model.buffers.isEmpty {
            let result = compiledStep.lossAndGradients(model: model, tensors: form.tensors(batch), context: context, lossScale: lossScale)
            form.check?(result.2, batch)
            return result
        }
        let model = self.model, loss = self.loss
        var output = Tensor<Scalar>(0)
        let (value, gradients) = valueWithGradient(at: model.parameters) { parameters in
            let result = loss.evaluate(model.replacingParameters(with: parameters), batch, context)
            output = result.output
            return lossScale.map { result.loss * $0 } ?? result.loss
        }
        return (value, gradients, output.detached())
    }

    /// Clips `gradients` when the settings say so and applies the optimizer's step to the model.
    mutating func update(along gradients: inout [Tensor<Scalar>]) {
        if let maxNorm = settings.maxGradientNorm { clipByGlobalNorm(&gradients, maxNorm: maxNorm) }
        optimizer.update(&model, along: gradients)
    }

    /// The model's mean loss and metrics over `data`, in evaluation mode (no dropout, nothing recorded).
    /// With a `gradientReduction`, each worker evaluates its part of every batch and the totals are summed,
    /// so every worker returns the figures of the whole data.
    public func evaluate<Data: TrainingData<Batch>>(on data: Data) throws -> TrainingEvaluation {
        var totals = StepTotals(metricCount: metrics.count)
        let context = ForwardContext(mode: .evaluation)
        for batch in data.evaluationBatches(batchSize: evaluationBatchSize) {
            let part = gradientReduction.map { batch.examples($0.shard(ofBatchOf: batch.exampleCount)) } ?? batch
            guard part.exampleCount > 0 else { continue }
            let (loss, output) = withoutRecording { self.loss.evaluate(model, part, context) }
            totals.record(loss: Double(loss.scalar), of: part, output: output, metrics: metrics)
        }
        if let reduction = gradientReduction { try totals.sum(over: reduction) }
        return TrainingEvaluation(
            loss: totals.examples > 0 ? totals.lossSum / Double(totals.examples) : .nan, metrics: metricValues(totals),
            count: totals.examples)
    }

    /// The metrics' values from their totals.
    func metricValues(_ totals: StepTotals) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: metrics.indices.map { index in
            let (total, count) = (totals.metricTotals[index], totals.metricCounts[index])
            return (metrics[index].name, count > 0 ? metrics[index].finish(total / count) : .nan)
        })
    }
}

/// What one step of a `Trainer` measured.
public struct TrainingStep: Sendable {
    /// The batch's summed loss, example count and metric totals (before the update).
    public var totals: StepTotals
    /// Whether the loss and gradients were finite (the update was applied).
    public var isFinite: Bool
}

/// Sums that add up over batches and workers: the loss summed over examples, the example count, and each
/// metric's total and count.
public struct StepTotals: Sendable {
    /// Σ loss per example.
    public var lossSum = 0.0
    /// The examples.
    public var examples = 0
    /// Each metric's total.
    public var metricTotals: [Double]
    /// Each metric's count.
    public var metricCounts: [Double]

    /// Zero totals for `metricCount` metrics.
    public init(metricCount: Int) {
        metricTotals = Array(repeating: 0, count: metricCount)
        metricCounts = Array(repeating: 0, count: metricCount)
    }

    /// Adds another batch's totals.
    mutating func add(_ other: StepTotals) {
        lossSum += other.lossSum
        examples += other.examples
        for index in metricTotals.indices {
            metricTotals[index] += other.metricTotals[index]
            metricCounts[index] += other.metricCounts[index]
        }
    }

    /// Adds a batch's mean `loss` and its metrics.
    mutating func record<Scalar, Batch: TrainingBatch>(
        loss: Double, of batch: Batch, output: Tensor<Scalar>, metrics: [TrainingMetric<Scalar, Batch>]
    ) {
        lossSum += loss * Double(batch.exampleCount)
        examples += batch.exampleCount
        for (index, metric) in metrics.enumerated() {
            let (total, count) = metric.measure(output, batch)
            metricTotals[index] += total
            metricCounts[index] += count
        }
    }

    /// Sums the totals over all workers.
    mutating func sum(over reduction: any GradientReduction) throws {
        var values = [lossSum, Double(examples)] + metricTotals + metricCounts
        try reduction.sum(&values)
        lossSum = values[0]
        examples = Int(values[1].rounded())
        let count = metricTotals.count
        metricTotals = Array(values[2..<(2 + count)])
        metricCounts = Array(values[(2 + count)...])
    }
}
