import Foundation

// A `Trainer`'s run in a safetensors checkpoint: the model's parameters and buffers under their names, the
// optimizer's buffers under `optimizer.<slot>.<parameter>`, and the settings, step count and history as
// metadata, so that `resume(from:)` continues exactly where the run stopped.


extension Trainer {
    /// The metadata value that marks a checkpoint written by a `Trainer`.
    public static var checkpointFormat: String { "backprop.trainer.v1" }

    /// A checkpoint of the run as it stands, with `metadata` added (say, what prediction needs: see
    /// `InputPreprocessing`).
    public func checkpoint(metadata: [String: String] = [:]) -> Checkpoint {
        var entries = metadata
        entries["format"] = Self.checkpointFormat
        entries["epochs"] = "\(settings.epochs)"
        entries["batch_size"] = "\(settings.batchSize)"
        entries["learning_rate"] = "\(baseLearningRate)"
        entries["schedule"] = settings.schedule.textDescription
        entries["seed"] = "\(settings.seed)"
        if let maxGradientNorm = settings.maxGradientNorm { entries["max_gradient_norm"] = "\(maxGradientNorm)" }
        entries["optimizer_step"] = "\(optimizer.state.step)"
        for (key, value) in optimizer.configuration { entries["optimizer." + key] = value }
        entries["history"] = Self.encode(history)
        var checkpoint = Checkpoint(model: model, metadata: entries)
        checkpoint.setOptimizerState(optimizer.state, parameterNames: model.parameterNames)
        return checkpoint
    }

    /// Continues the run saved in `checkpoint`: the model's parameters and buffers, the optimizer's buffers
    /// and step count, and the history; training then goes on from the next epoch, as if uninterrupted.
    /// The trainer must be set up as the saved one was (the same model type, the same optimizer kind and
    /// hyper-parameters, and the same batch size, learning rate, schedule and seed; `settings.epochs` may be
    /// larger, to extend the run).
    ///
    /// - Throws: `CheckpointError` when the checkpoint is not a `Trainer`'s, its settings differ from this
    ///   trainer's, or its tensors do not fit the model (the trainer is then left unchanged).
    public mutating func resume(from checkpoint: Checkpoint) throws {
        let metadata = checkpoint.metadata
        guard metadata["format"] == Self.checkpointFormat else {
            throw CheckpointError(
                "not a Trainer checkpoint (metadata format is \(metadata["format"].map { "'\($0.prefix(60))'" } ?? "missing"); expected '\(Self.checkpointFormat)')")
        }
        // The optimizer's kind first, then its hyper-parameters (momentum, betas, weight decay, ...).
        let optimizerEntries = optimizer.configuration.sorted { ($0.key != "optimizer" ? 1 : 0, $0.key) < ($1.key != "optimizer" ? 1 : 0, $1.key) }
        let expected = [
            ("batch_size", "\(settings.batchSize)"), ("learning_rate", "\(baseLearningRate)"),
            ("schedule", settings.schedule.textDescription), ("seed", "\(settings.seed)"),
        ] + optimizerEntries.map { ("optimizer." + $0.key, $0.value) }
        for (key, value) in expected where metadata[key] != value {
            throw CheckpointError("checkpoint's \(key) is \(metadata[key].map { "'\($0)'" } ?? "missing"), this trainer's '\(value)': the run would not continue as it was")
        }
        guard let step = metadata["optimizer_step"].flatMap(Int.init), step >= 0 else {
            throw CheckpointError("checkpoint's optimizer_step is missing or malformed")
        }
        let history = try Self.decode(metadata["history"] ?? "[]")
        var model = self.model
        try checkpoint.apply(to: &model)
        let state = try checkpoint.optimizerState(
            step: step, parameterNames: model.parameterNames, shapes: model.parameters.map(\.shape), as: Scalar.self)
        self.model = model
        optimizer.state = state
        self.history = history
        if let last = history.last { optimizer.learningRate = settings.schedule.learningRate(base: baseLearningRate, epoch: last.epoch) }
    }

    /// The history as JSON (non-finite values as strings).
    static func encode(_ history: [TrainingRecord]) -> String {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(history)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    /// The history from `encode`'s JSON.
    static func decode(_ text: String) throws -> [TrainingRecord] {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            let history = try decoder.decode([TrainingRecord].self, from: Data(text.utf8))
            for (index, record) in history.enumerated() where record.epoch != index + 1 {
                throw CheckpointError("checkpoint's training history lists epoch \(record.epoch) in place \(index + 1)")
            }
            return history
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError("checkpoint's training history cannot be read: \(error)")
        }
    }
}
