import BackpropNN
import Foundation

extension TrainOptions {
    /// Runs `backprop train`: validates the flags, reads the data, trains (fresh or resumed), writes the
    /// checkpoint after every epoch and the curves at the end, and prints the results. With `parallelism`,
    /// this process is one worker of a data-parallel run (see `TrainingParallelism`).
    ///
    /// - Throws: `UserError` for bad flags or files, `RunFailure` when training diverges.
    public func run(parallelism: TrainingParallelism? = nil) throws {
        try checkNumbers()
        try checkResumeFlags()
        if let kind = try languageModelKind() {
            guard parallelism == nil else { throw UserError("language models train in one process: use backprop train") }
            return try runLanguageModel(kind)
        }
        try checkClassifierFlags()
        let reporting = parallelism?.isReporting ?? true
        let source = try DataSource(path: data, labelColumn: labelColumn)

        // A convolutional network's files are named for it, so that an MLP run's are not overwritten.
        let stem = model == .cnn || architecture != nil ? "backprop-cnn" : "backprop-mlp"
        let plot = self.plot ?? stem + ".svg"
        let savePath = save ?? resume ?? stem + ".safetensors"
        // No output may land on an input or on another output (the checkpoint resumed is the one exception:
        // by default a resumed run saves over it).
        var files = RunFiles()
        for path in source.inputFiles { files.reads(path, flag: "--data") }
        if let resume { files.reads(resume, flag: "--resume") }
        files.writes(savePath, flag: "--save", replacing: resume)
        files.writes(plot, flag: "--plot")
        try files.check()
        if reporting {
            try checkWritable(savePath, flag: "--save")
            try checkWritable(plot, flag: "--plot")
        }
        // What the data will take, from the files alone, before any of it is read.
        let budget = try memory.budget()
        let dataBytes = try source.estimatedMemory(within: budget)
        if let resume { try checkCheckpointMemory(resume, flag: "--resume", budget: budget, otherBytes: dataBytes) }
        if resume == nil, architecture == nil, model != .cnn, let features = source.declaredFeatureCount(), features > 0 {
            // An MLP's size is known from the first line: three million columns are refused before they are parsed.
            let provisional = TrainingConfiguration(
                hiddenWidths: try parseWidths(layers ?? "128"), batchSize: 1, optimizer: try parseOptimizer(optimizer ?? "adam"))
            do { try ClassifierTrainer<Float>.validate(configuration: provisional, inputSize: features, classCount: 2) } catch let error as ConfigurationError {
                throw UserError("\(Self.flag(for: error.setting)) \(error.problem)")
            }
            try checkTrainingMemory(provisional, inputSize: features, classCount: 2, examples: nil, budget: budget, dataBytes: dataBytes)
        }
        // Read the data once: a CSV file parsed or MNIST decompressed twice costs seconds.
        let all = try source.load()
        let testPart = try source.loadTestPart()
        var trainer: ClassifierTrainer<Float>
        var heldOutFraction = testFraction ?? 0.2
        var normalization: Normalization<Float>? = nil
        if let resume {
            let checkpoint = try loadCheckpoint(resume)
            do { trainer = try ClassifierTrainer<Float>(resumingFrom: checkpoint, epochs: epochs) } catch let error as CheckpointError {
                throw UserError("--resume \(resume): \(error.description)")
            }
            try checkTrainingMemory(
                trainer.configuration, inputSize: trainer.inputSize, classCount: trainer.classCount, examples: all.count,
                budget: budget, dataBytes: dataBytes)
            normalization = try checkpointNormalization(checkpoint, path: resume, flag: "--resume")
            // The resumed run must see the same split as the run it continues.
            if let fraction = try recordedTestFraction(checkpoint, path: resume, flag: "--resume") { heldOutFraction = fraction }
        } else {
            let totalEpochs = epochs ?? 30
            var configuration = TrainingConfiguration(
                hiddenWidths: try parseWidths(layers ?? "128"), activation: try parseActivation(activation ?? "relu"),
                dropout: dropout ?? 0, epochs: totalEpochs, batchSize: batchSize ?? 32,
                optimizer: try parseOptimizer(optimizer ?? "adam"), learningRate: lr ?? 1e-3,
                schedule: try parseSchedule(schedule ?? "constant", epochs: totalEpochs), maxGradientNorm: clipNorm, seed: seed ?? 0)
            if let (network, shape) = try chosenArchitecture(source: source, featureCount: all.featureCount) {
                configuration.architecture = network
                configuration.exampleShape = shape
                configuration.hiddenWidths = []
            }
            trainer = try freshTrainer(configuration, all: all, testPart: testPart, budget: budget, dataBytes: dataBytes)
        }
        var (train, test) = try splitData(all, testPart: testPart, seed: trainer.configuration.seed, testFraction: heldOutFraction)
        if source.needsStandardization && normalization == nil { normalization = Normalization.standardizing(train.features) }
        if let normalization {
            guard normalization.featureCount == train.featureCount else {
                throw UserError("the checkpoint's normalization has \(normalization.featureCount) features, the data \(train.featureCount)")
            }
            train = normalization.apply(train)
            test = normalization.apply(test)
        }
        try checkDataFits(train, named: "training", trainer)
        try checkDataFits(test, named: "test", trainer)
        if let parallelism {
            // Before the first collective: workers that differ would call collectives of other counts and sizes.
            try agreement(trainer: trainer, train: train, test: test, settings: parallelism.settings).check(over: parallelism.reduction)
            trainer.gradientReduction = parallelism.reduction
            // Every worker built the same model from the same seed, or read the same checkpoint; worker 0's
            // parameters and buffers are made everyone's all the same, in case a file differed.
            try parallelism.reduction.broadcast(&trainer.model.parameters)
            if !trainer.model.buffers.isEmpty { try parallelism.reduction.broadcast(&trainer.model.buffers) }
            // Until the first epoch is saved, the checkpoint being resumed is the last complete one.
            if let resume { parallelism.checkpointCompleted(resume) }
        }

        let quiet = self.quiet || !reporting
        let display = ProgressDisplay(enabled: !quiet)
        let configuration = trainer.configuration
        if !quiet {
            print("data: \(source.name): \(train.count) training, \(test.count) test examples")
            print("model: \(configuration.modelDescription(inputSize: trainer.inputSize, classCount: trainer.classCount)), \(trainer.model.parameterCount) parameters; "
                + "\(configuration.optimizer.rawValue) lr \(configuration.learningRate), batch \(configuration.batchSize), "
                + "\(configuration.epochs) epochs, seed \(configuration.seed)"
                + (parallelism.map { "; data parallel over \($0.reduction.workerCount) processes" } ?? "")
                + (trainer.completedEpochs > 0 ? "; resuming after epoch \(trainer.completedEpochs)" : ""))
        }
        let saveURL = URL(fileURLWithPath: savePath)
        var trainSeconds = 0.0
        var saved = false
        var lastSavedEpoch: Int? = nil
        func writeCheckpoint() throws {
            if reporting { try saveCheckpoint(runCheckpoint(trainer, normalization, source, train, heldOutFraction), to: saveURL) }
            parallelism?.checkpointCompleted(savePath)
        }
        func trainRemainingEpochs() throws {
            while trainer.completedEpochs < configuration.epochs {
                let record = try trainer.trainEpoch(on: train, evaluatingOn: test, progress: display.batch)
                trainSeconds += record.seconds
                let left = record.seconds * Double(configuration.epochs - trainer.completedEpochs)
                display.epoch(record, epochs: configuration.epochs, runSecondsLeft: left)
                try writeCheckpoint()
                saved = true
                lastSavedEpoch = trainer.completedEpochs
            }
        }
        do {
            if detectAnomaly { try withAnomalyDetection { try trainRemainingEpochs() } } else { try trainRemainingEpochs() }
        } catch let diverged as TrainingDiverged {
            display.finish()
            throw divergenceFailure(String(describing: diverged), savePath: savePath, lastSavedEpoch: lastSavedEpoch,
                                    configuration: configuration, reporting: reporting,
                                    details: ["epoch": diverged.epoch, "batch": diverged.batch, "batches": diverged.batches,
                                              "loss": diverged.loss.isFinite ? diverged.loss : "\(diverged.loss)" as Any,
                                              "gradient_diverged": diverged.gradientDiverged])
        } catch let anomaly as AnomalyDetected {
            display.finish()
            throw divergenceFailure("anomaly detection: " + anomaly.description, savePath: savePath, lastSavedEpoch: lastSavedEpoch,
                                    configuration: configuration, reporting: reporting,
                                    details: ["anomaly": anomaly.description, "primitive": anomaly.primitive, "pass": anomaly.pass])
        }
        // A resumed run that had already finished trains nothing; its checkpoint is still written where asked.
        if !saved { try writeCheckpoint() }

        // Sharded over the workers in a data-parallel run; the totals are the whole test set's everywhere.
        let evaluation = try trainer.evaluationTotals(on: test)
        guard reporting else { return }
        try writeText(trainingCurvesSVG(trainer.history, title: "backprop train"), to: plot, flag: "--plot")
        print(String(format: "test accuracy %.4f (%d of %d), test loss %.4f; training took %.2f s",
            evaluation.accuracy, evaluation.correct, test.count, evaluation.loss, trainSeconds))
        if !quiet {
            print("confusion matrix (rows: true class, columns: predicted):")
            print(evaluation.confusion.description)
        }
        print("checkpoint: \(savePath)\nplot: \(plot)")
        if json {
            var object: [String: Any] = [
                "test_accuracy": evaluation.accuracy, "test_loss": evaluation.loss, "train_seconds": trainSeconds,
                "epochs": trainer.completedEpochs, "checkpoint": savePath, "plot": plot,
                "train_examples": train.count, "test_examples": test.count,
                "final_train_loss": trainer.history.last?.trainLoss ?? Double.nan,
            ]
            if let parallelism {
                object["processes"] = parallelism.reduction.workerCount
                object.merge(parallelism.report()) { _, extra in extra }
            }
            print(try jsonLine(object))
        }
    }

    /// What the workers of a data-parallel run must share: the examples (after the split and normalization),
    /// every flag that shapes the run, the model and optimizer settings, the epochs already completed and the
    /// parameter shapes (from the flags or the resumed checkpoint), and the launcher's own `settings`.
    func agreement(
        trainer: ClassifierTrainer<Float>, train: Dataset<Float>, test: Dataset<Float>, settings: [(name: String, value: String)]
    ) -> RunAgreement {
        var agreement = RunAgreement()
        agreement.add("the training examples (--data)", train)
        agreement.add("the test examples (--data, --test-fraction)", test)
        let flags: [(String, String)] = [
            ("--label-column", labelColumn.map(String.init) ?? ""), ("--model", model?.rawValue ?? ""),
            ("--architecture", architecture ?? ""), ("--image-shape", imageShape ?? ""), ("--layers", layers ?? ""),
            ("--activation", activation ?? ""), ("--dropout", dropout.map { "\($0)" } ?? ""), ("--epochs", epochs.map(String.init) ?? ""),
            ("--batch-size", batchSize.map(String.init) ?? ""), ("--optimizer", optimizer ?? ""), ("--lr", lr.map { "\($0)" } ?? ""),
            ("--schedule", schedule ?? ""), ("--clip-norm", clipNorm.map { "\($0)" } ?? ""),
            ("--test-fraction", testFraction.map { "\($0)" } ?? ""), ("--seed", seed.map(String.init) ?? ""),
            ("--detect-anomaly", "\(detectAnomaly)"), ("--resume (given or not)", resume == nil ? "no" : "yes"),
        ]
        for (flag, value) in flags { agreement.add(flag, value) }
        let model = trainer.configuration.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        agreement.add("the model and optimizer settings", (model + ["inputs=\(trainer.inputSize)", "classes=\(trainer.classCount)"]).joined(separator: ";"))
        agreement.add("the epochs completed (--resume)", "\(trainer.completedEpochs)")
        agreement.add("the parameter shapes", trainer.model.parameters.map { "\($0.shape)" }.joined(separator: ",")
            + " buffers " + trainer.model.buffers.map { "\($0.shape)" }.joined(separator: ","))
        for (name, value) in settings { agreement.add(name, value) }
        return agreement
    }

    /// The failure a diverged run ends with: what happened, which checkpoint is kept, and what to try; with
    /// `--json`, the same as a JSON line on stdout first (by the reporting worker only).
    func divergenceFailure(
        _ what: String, savePath: String, lastSavedEpoch: Int?, configuration: TrainingConfiguration,
        reporting: Bool = true, details: [String: Any]
    ) -> Error {
        let kept = lastSavedEpoch.map { "the checkpoint of epoch \($0) in \(savePath) is the last finite one" }
            ?? (FileManager.default.fileExists(atPath: savePath)
                ? "\(savePath) was left as it was" : "no checkpoint was written")
        let advice = "try a smaller --lr (now \(configuration.learningRate))"
            + (configuration.maxGradientNorm == nil ? " or --clip-norm 1" : " or a smaller --clip-norm")
            + (detectAnomaly ? "" : ", or --detect-anomaly to find the first operation that produced a NaN")
        if json && reporting {
            var object = details
            object["diverged"] = true
            object["checkpoint"] = lastSavedEpoch == nil ? nil : savePath
            object["message"] = what
            if let line = try? jsonLine(object) { print(line) }
        }
        return RunFailure("\(what); \(kept); \(advice)")
    }

    /// The trainer's checkpoint plus what `evaluate` and `predict` need to know about the data: where it
    /// came from, the held-out fraction, and the original label values when labels were renumbered.
    func runCheckpoint(
        _ trainer: ClassifierTrainer<Float>, _ normalization: Normalization<Float>?, _ source: DataSource,
        _ train: Dataset<Float>, _ testFraction: Double
    ) -> Checkpoint {
        var checkpoint = trainer.checkpoint(normalization: normalization)
        checkpoint.metadata["data_source"] = source.identity
        checkpoint.metadata["test_fraction"] = "\(testFraction)"
        if let values = train.labelValues { checkpoint.metadata["label_values"] = values.map { "\($0)" }.joined(separator: ",") }
        return checkpoint
    }

    /// The training and test sets: MNIST's own parts, or a seeded split.
    func splitData(
        _ all: Dataset<Float>, testPart: Dataset<Float>?, seed: UInt64, testFraction: Double
    ) throws -> (Dataset<Float>, Dataset<Float>) {
        if let testPart { return (all, testPart) }
        let parts = all.split(testFraction: testFraction, seed: seed)
        guard parts.train.count > 0, parts.test.count > 0 else {
            throw UserError("--data: \(all.count) examples are too few to hold out a test set")
        }
        return parts
    }
}
