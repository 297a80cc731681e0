// Saving a training run to a safetensors checkpoint and resuming it: the model's parameters under their
// PyTorch names, the optimizer's buffers under `optimizer.<slot>.<parameter>`, and the configuration,
// step count and history as metadata, so that a resumed run continues exactly.

extension ClassifierTrainer {
    /// The metadata value that marks a checkpoint written by this trainer.
    static var formatName: String { "backprop.mlp-classifier.v1" }

    /// A checkpoint of the run as it stands: parameters, optimizer state, configuration and history,
    /// plus the input `normalization` when the features were normalised before training.
    public func checkpoint(normalization: Normalization<Scalar>? = nil) -> Checkpoint {
        var metadata = configuration.metadata
        metadata["format"] = Self.formatName
        metadata["input_size"] = "\(inputSize)"
        metadata["class_count"] = "\(classCount)"
        metadata["optimizer_step"] = "\(optimizer.state.step)"
        metadata["history"] = history.map(Self.encode).joined(separator: ";")
        for (key, value) in optimizer.configuration where key != "optimizer" { metadata["optimizer." + key] = value }
        var checkpoint = Checkpoint(model: model, metadata: metadata)
        let names = model.parameterNames
        for slot in optimizer.state.slots.keys.sorted() {
            for (name, buffer) in zip(names, optimizer.state.slots[slot] ?? []) {
                try? checkpoint.setTensor(buffer, named: "optimizer.\(slot).\(name)")
            }
        }
        if let normalization { try? checkpoint.setNormalization(normalization) }
        return checkpoint
    }

    /// Rebuilds a run from a checkpoint written by `checkpoint(normalization:)`: the model, the optimizer
    /// with its buffers and step count, and the history. Training then continues from the next epoch;
    /// `epochs` (when given) replaces the configured total, to extend a finished run.
    ///
    /// - Throws: `CheckpointError` when the checkpoint was not written by this trainer or does not match
    ///   the model its metadata describes.
    public init(resumingFrom checkpoint: Checkpoint, epochs: Int? = nil) throws {
        let metadata = checkpoint.metadata
        guard metadata["format"] == Self.formatName else {
            throw CheckpointError(
                "not a backprop training checkpoint (metadata format is \(metadata["format"].map { "'\($0)'" } ?? "missing"); "
                    + "expected '\(Self.formatName)')")
        }
        guard var configuration = TrainingConfiguration(metadata: metadata),
            let inputSize = metadata["input_size"].flatMap(Int.init), inputSize > 0,
            let classCount = metadata["class_count"].flatMap(Int.init), classCount > 0,
            let step = metadata["optimizer_step"].flatMap(Int.init), step >= 0
        else { throw CheckpointError("checkpoint metadata is incomplete or malformed: \(metadata)") }
        if let epochs { configuration.epochs = epochs }
        if let architecture = configuration.architecture {
            // Check the recorded network fits before building it (the initialiser traps on a bad one).
            let shape = configuration.exampleShape ?? [inputSize]
            guard shape.reduce(1, *) == inputSize else {
                throw CheckpointError("checkpoint's example shape \(shape) does not hold its \(inputSize) input features")
            }
            do { try architecture.validate(exampleShape: shape, classCount: classCount) } catch {
                throw CheckpointError("checkpoint's architecture does not build: \(error)")
            }
        }
        self.init(configuration: configuration, inputSize: inputSize, classCount: classCount)
        try checkpoint.apply(to: &model)
        var state = OptimizerState<Scalar>(step: step)
        let names = model.parameterNames
        let shapes = model.parameters.map(\.shape)
        let stored = checkpoint.tensors(withPrefix: "optimizer.", as: Scalar.self)
        var slotNames = Set<String>()
        for key in stored.keys {
            let rest = key.dropFirst("optimizer.".count)
            if let dot = rest.firstIndex(of: "."), names.contains(String(rest[rest.index(after: dot)...])) {
                slotNames.insert(String(rest[..<dot]))
            }
        }
        for slot in slotNames {
            var buffers: [Tensor<Scalar>] = []
            for (name, shape) in zip(names, shapes) {
                guard let buffer = stored["optimizer.\(slot).\(name)"], buffer.shape == shape else {
                    throw CheckpointError("checkpoint's optimizer state optimizer.\(slot).\(name) is missing or not of shape \(shape)")
                }
                buffers.append(buffer)
            }
            state.slots[slot] = buffers
        }
        optimizer.state = state
        let historyText = metadata["history"] ?? ""
        history = try historyText.isEmpty ? [] : historyText.split(separator: ";").map { try Self.decode(String($0)) }
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
            let accuracy = fields[3], let seconds = fields[6]
        else { throw CheckpointError("checkpoint's training history entry '\(text)' is malformed") }
        func optional(_ value: Double?) -> Double? { value.flatMap { $0.isNaN ? nil : $0 } }
        return EpochRecord(
            epoch: Int(epoch), learningRate: rate, trainLoss: loss, trainAccuracy: accuracy,
            testLoss: optional(fields[4]), testAccuracy: optional(fields[5]), seconds: seconds)
    }
}
