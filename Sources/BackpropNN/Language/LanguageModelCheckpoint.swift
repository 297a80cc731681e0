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
        for (key, value) in optimizer.configuration where key != "optimizer" { metadata["optimizer." + key] = value }
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
    /// with its buffers and step count, and the history; `epochs` (when given) replaces the configured total.
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
        guard var configuration = LanguageModelTrainingConfiguration(metadata: metadata),
            let text = metadata["vocabulary"], let vocabulary = try? Vocabulary(parsing: text),
            vocabulary.count == configuration.model.vocabularySize,
            let step = metadata["optimizer_step"].flatMap(Int.init), step >= 0
        else { throw CheckpointError("language-model checkpoint metadata is incomplete or malformed") }
        if let epochs { configuration.epochs = epochs }
        self.init(configuration: configuration, vocabulary: vocabulary)
        try checkpoint.apply(to: &model)
        var state = OptimizerState<Scalar>(step: step)
        let names = model.parameterNames, shapes = model.parameters.map(\.shape)
        let stored = checkpoint.tensors(withPrefix: "optimizer.", as: Scalar.self)
        let slots = Set(stored.keys.compactMap { key -> String? in
            let rest = key.dropFirst("optimizer.".count)
            guard let dot = rest.firstIndex(of: "."), names.contains(String(rest[rest.index(after: dot)...])) else { return nil }
            return String(rest[..<dot])
        })
        for slot in slots {
            state.slots[slot] = try zip(names, shapes).map { name, shape in
                guard let buffer = stored["optimizer.\(slot).\(name)"], buffer.shape == shape else {
                    throw CheckpointError("checkpoint's optimizer state optimizer.\(slot).\(name) is missing or not of shape \(shape)")
                }
                return buffer
            }
        }
        optimizer.state = state
        let historyText = metadata["history"] ?? ""
        history = try historyText.isEmpty ? [] : historyText.split(separator: ";").map { try ClassifierTrainer<Scalar>.decode(String($0)) }
        if let last = history.last {
            optimizer.learningRate = configuration.schedule.learningRate(base: configuration.learningRate, epoch: last.epoch)
        }
    }
}
