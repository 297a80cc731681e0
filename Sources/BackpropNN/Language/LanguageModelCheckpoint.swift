// Saving a language-model training run to a safetensors checkpoint and resuming it: the parameters under
// their PyTorch names, the optimizer's buffers under `optimizer.<slot>.<parameter>`, and the configuration,
// vocabulary, step count and history as metadata.

extension LanguageModelTrainer {
    /// The metadata value that marks a checkpoint written by this trainer.
    public static var formatName: String { "backprop.char-lm.v1" }

    /// A checkpoint of the run as it stands.
    public func checkpoint() -> Checkpoint {
        var metadata = configuration.metadata
        metadata["format"] = Self.formatName
        metadata["vocabulary"] = vocabulary.description
        metadata["optimizer_step"] = "\(optimizer.state.step)"
        metadata["history"] = history.map(ClassifierTrainer<Scalar>.encode).joined(separator: ";")
        metadata.merge(optimizerMetadata(optimizer.configuration)) { $1 }
        var checkpoint = Checkpoint(model: model, metadata: metadata)
        let names = model.parameterNames
        for slot in optimizer.state.slots.keys.sorted() {
            for (name, buffer) in zip(names, optimizer.state.slots[slot] ?? []) {
                try? checkpoint.setTensor(buffer, named: "optimizer.\(slot).\(name)")
            }
        }
        return checkpoint
    }

    /// Rebuilds a run from a checkpoint written by `checkpoint()`: the model, the vocabulary, the optimizer
    /// (its kind and hyper-parameters as saved) with its buffers and step count, and the history; `epochs` (when given) replaces the configured total.
    ///
    /// - Throws: `CheckpointError` when the checkpoint was not written by this trainer or does not match the
    ///   model its metadata describes.
    public init(resumingFrom checkpoint: Checkpoint, epochs: Int? = nil) throws {
        let metadata = checkpoint.metadata
        guard metadata["format"] == Self.formatName else {
            throw CheckpointError(
                "not a backprop language-model checkpoint (metadata format is \(metadata["format"].map { "'\($0)'" } ?? "missing"); "
                    + "expected '\(Self.formatName)')")
        }
        // Every number is checked before it is used and every size before anything is allocated: a tampered or
        // damaged file gets a message, never a trap.
        guard var configuration = LanguageModelTrainingConfiguration(metadata: metadata) else {
            throw CheckpointError("language-model checkpoint metadata is incomplete or malformed (lm.*, epochs, batch_size, optimizer, learning_rate, schedule, seed, text_shape)")
        }
        func finite(_ value: Double) -> Bool { value.isFinite && Scalar(value).isFinite && Scalar(value) != 0 }
        guard finite(configuration.learningRate), configuration.maxGradientNorm.map(finite) ?? true,
            configuration.batchSize <= 1 << 20, configuration.model.context <= 1 << 20
        else { throw CheckpointError("language-model checkpoint metadata holds a learning rate, clipping norm, batch size or context out of range") }
        guard let text = metadata["vocabulary"], let vocabulary = try? Vocabulary(parsing: text),
            vocabulary.count == configuration.model.vocabularySize
        else { throw CheckpointError("language-model checkpoint's vocabulary is missing or does not have lm.vocabulary_size characters") }
        guard let step = metadata["optimizer_step"].flatMap(Int.init), step >= 0 else {
            throw CheckpointError("language-model checkpoint metadata optimizer_step must be a non-negative integer")
        }
        // The file holds every parameter: a model larger than the values it holds is never built.
        let storedValues = checkpoint.names.reduce(0) { $0 + (checkpoint.file.tensors[$1]?.scalarCount ?? 0) }
        guard configuration.model.parameterCount <= storedValues else {
            throw CheckpointError(
                "language-model checkpoint metadata describes \(configuration.model.parameterCount) parameters, but the file holds \(storedValues) values")
        }
        if let epochs {
            guard epochs >= 0 else { throw CheckpointError("the epoch total must not be negative, got \(epochs)") }
            configuration.epochs = epochs
        }
        self.init(configuration: configuration, vocabulary: vocabulary)
        // The optimizer as it was saved: its kind (older checkpoints: the configuration's) and hyper-parameters.
        optimizer = try recordedOptimizer(
            in: metadata, configuredKind: optimizer.configuration["optimizer"], learningRate: configuration.learningRate)
        try checkpoint.apply(to: &model)
        optimizer.state = try checkpoint.optimizerState(
            step: step, parameterNames: model.parameterNames, shapes: model.parameters.map(\.shape), as: Scalar.self)
        let historyText = metadata["history"] ?? ""
        history = try historyText.isEmpty ? [] : historyText.split(separator: ";").map { try ClassifierTrainer<Scalar>.decode(String($0)) }
        for (index, record) in history.enumerated() where record.epoch != index + 1 {
            throw CheckpointError("checkpoint's training history lists epoch \(record.epoch) in place \(index + 1)")
        }
        if let last = history.last {
            optimizer.learningRate = configuration.schedule.learningRate(base: configuration.learningRate, epoch: last.epoch)
        }
    }
}
