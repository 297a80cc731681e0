// Saving a training run to a safetensors checkpoint and resuming it: the model's parameters under their
// PyTorch names, the optimizer's buffers under `optimizer.<slot>.<parameter>`, and the configuration,
// step count and history as metadata, so that a resumed run continues exactly.

extension ClassifierTrainer {
    /// The metadata value that marks a checkpoint written by this trainer.
    static var formatName: String { "backprop.mlp-classifier.v1" }

    /// A checkpoint of the run as it stands: parameters, optimizer state, configuration and history,
    /// plus the input `normalization` when the features were normalised before training, and
    /// `inputPreprocessing` when set.
    public func checkpoint(normalization: Normalization<Scalar>? = nil) -> Checkpoint {
        var metadata = configuration.metadata
        metadata["format"] = Self.formatName
        metadata["input_size"] = "\(inputSize)"
        metadata["class_count"] = "\(classCount)"
        metadata["optimizer_step"] = "\(optimizer.state.step)"
        metadata["history"] = history.map(Self.encode).joined(separator: ";")
        metadata.merge(optimizerMetadata(optimizer.configuration)) { $1 }
        var checkpoint = Checkpoint(model: model, metadata: metadata)
        checkpoint.setOptimizerState(optimizer.state, parameterNames: model.parameterNames)
        if let normalization { try? checkpoint.setNormalization(normalization) }
        inputPreprocessing?.store(in: &checkpoint)
        return checkpoint
    }

    /// Rebuilds a run from a checkpoint written by `checkpoint(normalization:)`: the model, the optimizer
    /// (its kind and hyper-parameters as saved) with its buffers and step count, and the history. Training
    /// then continues from the next epoch; `epochs` (when given) replaces the configured total, to extend a
    /// finished run.
    ///
    /// - Throws: `CheckpointError` when the checkpoint was not written by this trainer or does not match
    ///   the model its metadata describes.
    public init(resumingFrom checkpoint: Checkpoint, epochs: Int? = nil) throws {
        let metadata = checkpoint.metadata
        guard metadata["format"] == Self.formatName else {
            throw CheckpointError(
                "not a backprop training checkpoint (metadata format is \(metadata["format"].map { "'\($0.prefix(60))'" } ?? "missing"); "
                    + "expected '\(Self.formatName)')")
        }
        // Every number is checked before it is used, and every size before anything is allocated: a tampered
        // or damaged file gets a message, never a trap.
        var configuration: TrainingConfiguration
        do { configuration = try TrainingConfiguration(validatingMetadata: metadata) } catch let error as ConfigurationError {
            throw CheckpointError("checkpoint metadata \(error.setting) \(error.problem)")
        }
        func integer(_ key: String, atLeast minimum: Int) throws -> Int {
            guard let text = metadata[key] else { throw CheckpointError("checkpoint metadata has no \(key)") }
            guard let value = Int(text), value >= minimum else {
                throw CheckpointError("checkpoint metadata \(key) must be an integer of at least \(minimum), got '\(text.prefix(40))'")
            }
            return value
        }
        let inputSize = try integer("input_size", atLeast: 1)
        let classCount = try integer("class_count", atLeast: 1)
        let step = try integer("optimizer_step", atLeast: 0)
        guard configuration.epochs >= 0 else { throw CheckpointError("checkpoint metadata epochs must not be negative, got \(configuration.epochs)") }
        if let epochs {
            guard epochs >= 0 else { throw CheckpointError("the epoch total must not be negative, got \(epochs)") }
            configuration.epochs = epochs
        }
        do { try Self.validate(configuration: configuration, inputSize: inputSize, classCount: classCount) } catch let error as ConfigurationError {
            // The MLP's size comes from three entries together.
            let setting = error.setting == "hidden_widths" && error.problem.hasPrefix("would make")
                ? "input_size, hidden_widths and class_count" : error.setting
            throw CheckpointError("checkpoint metadata \(setting) \(error.problem)")
        }
        // The file holds every parameter: a model larger than the values it holds is never built.
        let weights = try configuration.architecture.map { architecture in
            try architecture.weightCount(exampleShape: configuration.exampleShape ?? [inputSize], classCount: classCount)
        } ?? configuration.multilayerPerceptronParameterCount(inputSize: inputSize, classCount: classCount) ?? Int.max
        let storedValues = checkpoint.names.reduce(0) { $0 + (checkpoint.file.tensors[$1]?.scalarCount ?? 0) }
        guard weights <= storedValues else {
            throw CheckpointError(
                "checkpoint metadata describes a network of at least \(weights) weights (input_size \(inputSize), class_count \(classCount)), "
                    + "but the file holds \(storedValues) values: the metadata does not match the tensors")
        }
        self.init(configuration: configuration, inputSize: inputSize, classCount: classCount)
        // The optimizer as it was saved: its kind (older checkpoints: the configuration's) and hyper-parameters.
        optimizer = try recordedOptimizer(
            in: metadata, configuredKind: optimizer.configuration["optimizer"], learningRate: configuration.learningRate)
        try checkpoint.apply(to: &model)
        optimizer.state = try checkpoint.optimizerState(
            step: step, parameterNames: model.parameterNames, shapes: model.parameters.map(\.shape), as: Scalar.self)
        let historyText = metadata["history"] ?? ""
        history = try historyText.isEmpty ? [] : historyText.split(separator: ";").map { try Self.decode(String($0)) }
        for (index, record) in history.enumerated() where record.epoch != index + 1 {
            throw CheckpointError("checkpoint's training history lists epoch \(record.epoch) in place \(index + 1)")
        }
        (inputPreprocessing, preprocessingAssumption) = try InputPreprocessing<Scalar>.recorded(in: checkpoint)
        if let last = history.last {
            optimizer.learningRate = configuration.schedule.learningRate(base: configuration.learningRate, epoch: last.epoch)
        }
    }

    /// One epoch record as comma-separated fields (`nan` for a missing held-out figure).
    static func encode(_ record: EpochRecord) -> String {
        [
            "\(record.epoch)", "\(record.learningRate)", "\(record.trainLoss)", "\(record.trainAccuracy)",
            record.testLoss.map { "\($0)" } ?? "nan", record.testAccuracy.map { "\($0)" } ?? "nan", "\(record.seconds)",
        ].joined(separator: ",")
    }

    /// Reads a record written by `encode`.
    static func decode(_ text: String) throws -> EpochRecord {
        let fields = text.split(separator: ",").map { Double($0) }
        guard fields.count == 7, let epoch = fields[0], let rate = fields[1], let loss = fields[2],
            let accuracy = fields[3], let seconds = fields[6], epoch >= 1, epoch <= 1e15, epoch == epoch.rounded()
        else { throw CheckpointError("checkpoint's training history entry '\(text.prefix(80))' is malformed") }
        func optional(_ value: Double?) -> Double? { value.flatMap { $0.isNaN ? nil : $0 } }
        return EpochRecord(
            epoch: Int(epoch), learningRate: rate, trainLoss: loss, trainAccuracy: accuracy,
            testLoss: optional(fields[4]), testAccuracy: optional(fields[5]), seconds: seconds)
    }
}
