import Foundation

/// Trains a character language model on windows of text: the mean cross-entropy of the next character at
/// every position of every window, one epoch at a time, with the optimizer, schedule and clipping of
/// `ClassifierTrainer`.
///
/// ```swift
/// let corpus = try TextCorpus(contentsOf: url)
/// let (training, validation) = try corpus.split(validationFraction: 0.1, seed: 0)
/// let model = LanguageModelConfiguration(kind: .transformer, vocabularySize: corpus.vocabulary.count)
/// var trainer = LanguageModelTrainer<Float>(
///     configuration: LanguageModelTrainingConfiguration(model: model, textShape: corpus.shape), vocabulary: corpus.vocabulary)
/// try trainer.trainEpoch(on: TextWindows(tokens: training, context: 64), evaluatingOn: TextWindows(tokens: validation, context: 64))
/// print(try trainer.generate(prompt: "The ", length: 200, temperature: 0.8, seed: 1))
/// ```
///
/// Every random choice (initial weights, each epoch's windows, dropout) comes from the configuration's seed,
/// so a run resumed from its checkpoint gives the numbers of an uninterrupted one.
public struct LanguageModelTrainer<Scalar: TensorScalar> {
    /// What decides the run.
    public let configuration: LanguageModelTrainingConfiguration
    /// The characters the model reads and writes.
    public let vocabulary: Vocabulary
    /// The model being trained.
    public var model: any LanguageModel<Scalar>
    /// The optimizer and its state.
    public var optimizer: any Optimizer<Scalar>
    /// One record per completed epoch: losses per character (nats) and next-character accuracies.
    public var history: [EpochRecord]

    /// A trainer with a freshly initialised model.
    ///
    /// - Precondition: the vocabulary has `configuration.model.vocabularySize` characters, the model
    ///   configuration has no `problem`, and the batch size and learning rate are positive.
    public init(configuration: LanguageModelTrainingConfiguration, vocabulary: Vocabulary) {
        precondition(
            vocabulary.count == configuration.model.vocabularySize,
            "LanguageModelTrainer: the vocabulary has \(vocabulary.count) characters, the model \(configuration.model.vocabularySize)")
        precondition(
            configuration.batchSize > 0 && configuration.learningRate > 0 && configuration.epochs >= 0,
            "LanguageModelTrainer: batch size and learning rate must be positive")
        self.configuration = configuration
        self.vocabulary = vocabulary
        self.model = makeLanguageModel(configuration.model, seed: configuration.seed)
        self.optimizer = configuration.optimizer.make(learningRate: configuration.learningRate)
        self.history = []
    }

    /// The number of epochs trained so far.
    public var completedEpochs: Int { history.count }

    /// The batches (window starts) of epoch `epoch`: every window of the text once, or the first
    /// `stepsPerEpoch` batches.
    public func batches(of windows: TextWindows, epoch: Int) -> [[Int]] {
        let all = windows.batches(epoch: epoch, batchSize: configuration.batchSize, seed: configuration.seed)
        return configuration.stepsPerEpoch.map { Array(all.prefix($0)) } ?? all
    }

    /// Trains one epoch on `training`'s windows, then evaluates on `validation` when given. `progress` is
    /// called after every step (its `accuracy` is the next-character accuracy, its examples are characters).
    ///
    /// - Precondition: the windows' context is at most the model's.
    /// - Throws: `TrainingDiverged` at the first step whose loss or gradient is not finite (before its
    ///   update), or when a weight or the validation loss is not finite after the epoch; the epoch is then not
    ///   recorded.
    @discardableResult
    public mutating func trainEpoch(
        on training: TextWindows, evaluatingOn validation: TextWindows? = nil, progress: ((TrainingProgress) -> Void)? = nil
    ) throws -> EpochRecord {
        precondition(
            training.context <= configuration.model.context || configuration.model.kind != .transformer,
            "LanguageModelTrainer: windows of \(training.context) characters exceed the Transformer's context \(configuration.model.context)")
        let epoch = completedEpochs
        let learningRate = configuration.schedule.learningRate(base: configuration.learningRate, epoch: epoch)
        optimizer.learningRate = learningRate
        let batches = batches(of: training, epoch: epoch)
        let clock = ContinuousClock()
        let start = clock.now
        var lossSum = 0.0, correct = 0, seen = 0
        for (index, starts) in batches.enumerated() {
            let (inputs, targets) = training.batch(startingAt: starts)
            let context = ForwardContext(mode: .training, seed: stepSeed(epoch: epoch, step: index))
            let (loss, batchCorrect, finite) = step(inputs: inputs, targets: targets, batch: starts.count, context: context)
            guard finite else {
                throw TrainingDiverged(
                    epoch: epoch + 1, batch: index + 1, batches: batches.count, loss: loss, cause: loss.isFinite ? .gradient : .loss)
            }
            lossSum += loss * Double(targets.count)
            correct += batchCorrect
            seen += targets.count
            if let progress {
                let elapsed = (clock.now - start).seconds
                progress(
                    TrainingProgress(
                        epoch: epoch + 1, epochs: configuration.epochs, batch: index + 1, batches: batches.count,
                        loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                        examplesPerSecond: elapsed > 0 ? Double(seen) / elapsed : 0, elapsedSeconds: elapsed))
            }
        }
        let seconds = (clock.now - start).seconds
        // An update of finite gradients can still overflow a weight: nothing not finite reaches the history.
        guard allFinite(model.parameters) else {
            throw TrainingDiverged(
                epoch: epoch + 1, batch: batches.count, batches: batches.count, loss: lossSum / Double(Swift.max(seen, 1)), cause: .parameters)
        }
        let evaluation = validation.map { evaluate(on: $0) }
        if let loss = evaluation?.loss, !loss.isFinite {
            throw TrainingDiverged(epoch: epoch + 1, batch: batches.count, batches: batches.count, loss: loss, cause: .testLoss)
        }
        let record = EpochRecord(
            epoch: epoch + 1, learningRate: learningRate, trainLoss: seen > 0 ? lossSum / Double(seen) : .nan,
            trainAccuracy: seen > 0 ? Double(correct) / Double(seen) : .nan, testLoss: evaluation?.loss,
            testAccuracy: evaluation?.accuracy, seconds: seconds)
        history.append(record)
        return record
    }

    /// One gradient step on a batch of windows (`inputs` and `targets` row-major `[batch, T]`): the loss per
    /// character before the update, how many next characters the model got right, and whether the loss and
    /// gradients were finite (when not, nothing is updated).
    public mutating func step(inputs: [Int], targets: [Int], batch: Int, context: ForwardContext) -> (loss: Double, correct: Int, finite: Bool) {
        let network = model
        var logits = Tensor<Scalar>(0)
        var (loss, gradients) = valueWithGradient(at: network.parameters) { parameters in
            var model = network
            model.parameters = parameters
            let output = model.logits(tokens: inputs, batch: batch, context: context)
            logits = output
            return softmaxCrossEntropy(logits: output, labels: targets)
        }
        let correct = zip(predictedClasses(logits.detached()), targets).filter { $0 == $1 }.count
        guard loss.scalar.isFinite, allFinite(gradients) else { return (Double(loss.scalar), correct, false) }
        if let maxNorm = configuration.maxGradientNorm { clipByGlobalNorm(&gradients, maxNorm: maxNorm) }
        optimizer.update(&model.parameters, along: gradients)
        return (Double(loss.scalar), correct, true)
    }

    /// The model's mean loss per character (nats) and next-character accuracy over `windows`' evaluation
    /// windows (at most `limit`, spread over the text), in evaluation mode.
    public func evaluate(on windows: TextWindows, limit: Int = 2048) -> LanguageModelEvaluation {
        let starts = windows.evaluationStarts(limit: limit)
        var lossSum = 0.0, correct = 0, count = 0
        let evaluation = ForwardContext(mode: .evaluation)
        for first in stride(from: 0, to: starts.count, by: configuration.batchSize) {
            let batch = Array(starts[first..<Swift.min(starts.count, first + configuration.batchSize)])
            let (inputs, targets) = windows.batch(startingAt: batch)
            let logits = withoutRecording { model.logits(tokens: inputs, batch: batch.count, context: evaluation) }
            lossSum += Double(withoutRecording { softmaxCrossEntropy(logits: logits, labels: targets) }.scalar) * Double(targets.count)
            correct += zip(predictedClasses(logits), targets).filter { $0 == $1 }.count
            count += targets.count
        }
        return LanguageModelEvaluation(loss: count > 0 ? lossSum / Double(count) : .nan, accuracy: count > 0 ? Double(correct) / Double(count) : .nan, characters: count)
    }

    /// Continues `prompt` by `length` characters: greedily at temperature 0, otherwise sampled, reproducibly
    /// from `seed`.
    ///
    /// - Throws: `DataError` when the prompt is empty or has a character the model does not know.
    public func generate(prompt: String, length: Int, temperature: Double, seed: UInt64) throws -> String {
        guard !prompt.isEmpty else { throw DataError(.empty, "the prompt is empty") }
        let tokens = try vocabulary.encode(prompt)
        var sampler = CharacterSampler(temperature: temperature, seed: seed)
        return vocabulary.decode(model.continuation(of: tokens, length: length) { sampler.choose($0) })
    }

    /// The seed of a step's dropout masks, from the run's seed, the epoch and the step, so a resumed run
    /// draws the masks of an uninterrupted one.
    func stepSeed(epoch: Int, step: Int) -> UInt64 {
        var x = configuration.seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(step) &* 0xBF58_476D_1CE4_E5B9)
        x = (x ^ (x >> 31)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 29)
    }
}

/// How a language model did on a text.
public struct LanguageModelEvaluation: Sendable, Equatable {
    /// The mean cross-entropy of the next character, in nats.
    public var loss: Double
    /// The fraction of next characters that were the model's most likely.
    public var accuracy: Double
    /// The characters predicted.
    public var characters: Int

    /// Creates an evaluation.
    public init(loss: Double, accuracy: Double, characters: Int) {
        self.loss = loss
        self.accuracy = accuracy
        self.characters = characters
    }

    /// The loss in bits per character: loss / ln 2.
    public var bitsPerCharacter: Double { loss / Foundation.log(2) }
}
