import BackpropNN
import Foundation

/// A classifier run ready to train: the trainer (fresh or resumed), the data split and normalized, and what
/// the checkpoint records about the data.
struct PreparedRun {
    /// The trainer, with its model, optimizer state and history.
    var trainer: ClassifierTrainer<Float>
    /// The training examples, normalized when the data calls for it.
    let train: Dataset<Float>
    /// The held-out examples, normalized alike.
    let test: Dataset<Float>
    /// The standardization fitted on the training part (or read from the resumed checkpoint), if any.
    let normalization: Normalization<Float>?
    /// The fraction held out, recorded in the checkpoint so that a resumed run sees the same split.
    let heldOutFraction: Double
}

extension TrainOptions {
    /// Runs `backprop train`: validates the flags, reads the data, trains (fresh or resumed), writes the
    /// checkpoint after every epoch and the curves at the end, and prints the results. With `parallelism`,
    /// this process is one worker of a data-parallel run (see `TrainingParallelism`).
    ///
    /// The steps, in order: the flags; where the run writes (checked before anything is read); the memory the
    /// data and the model will take (from the files alone); the data read and the trainer built or resumed;
    /// the workers joined; the epochs trained; the results reported.
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
        let outputs = try outputFiles(for: source, reporting: reporting)
        let budget = try memory.budget()
        let dataBytes = try checkMemoryBeforeReading(source, budget: budget)
        var run = try prepareRun(source: source, budget: budget, dataBytes: dataBytes)
        if let parallelism { try join(parallelism, &run) }
        run.trainer.compilesSteps = compilesSteps
        let quiet = self.quiet || !reporting
        if !quiet { printHeader(run, source: source, parallelism: parallelism) }
        if reporting, steps == .compiled, let reason = run.trainer.eagerStepReason ?? (detectAnomaly ? "--detect-anomaly checks eager operations" : nil) {
            FileHandle.standardError.write(Data("note: training steps run eagerly: \(reason)\n".utf8))
        }
        let trainSeconds = try trainEpochs(&run, source: source, outputs: outputs, parallelism: parallelism, quiet: quiet)
        try report(run, outputs: outputs, trainSeconds: trainSeconds, parallelism: parallelism, quiet: quiet)
    }

    /// Where a run writes: the checkpoint and the curves, named for the kind of network so that an MLP run's
    /// files are not overwritten by a convolutional one's. No output may land on an input or on another
    /// output (the checkpoint resumed is the one exception: by default a resumed run saves over it), and the
    /// reporting worker checks that both can be written before anything is read.
    func outputFiles(for source: DataSource, reporting: Bool) throws -> (checkpoint: String, plot: String) {
        let stem = model == .cnn || architecture != nil ? "backprop-cnn" : "backprop-mlp"
        let plot = self.plot ?? stem + ".svg"
        let savePath = save ?? resume ?? stem + ".safetensors"
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
        return (savePath, plot)
    }

    /// What the data will take, from the files alone, before any of it is read; a resumed checkpoint's size,
    /// and a fresh MLP's from the first line's width (three million columns are refused before they are
    /// parsed). Returns the data's estimated bytes.
    func checkMemoryBeforeReading(_ source: DataSource, budget: MemoryBudget) throws -> Int {
        let dataBytes = try source.estimatedMemory(within: budget)
        if let resume { try checkCheckpointMemory(resume, flag: "--resume", budget: budget, otherBytes: dataBytes) }
        if resume == nil, architecture == nil, model != .cnn, let features = source.declaredFeatureCount(), features > 0 {
            let provisional = TrainingConfiguration(
                hiddenWidths: try parseWidths(layers ?? "128"), batchSize: 1, optimizer: try parseOptimizer(optimizer ?? "adam"))
            do { try ClassifierTrainer<Float>.validate(configuration: provisional, inputSize: features, classCount: 2) } catch let error as ConfigurationError {
                throw UserError("\(Self.flag(for: error.setting)) \(error.problem)")
            }
            try checkTrainingMemory(provisional, inputSize: features, classCount: 2, examples: nil, budget: budget, dataBytes: dataBytes)
        }
        return dataBytes
    }

    /// Reads the data (once: a CSV file parsed or MNIST decompressed twice costs seconds), builds the trainer
    /// from the flags or resumes it from its checkpoint (with the checkpoint's normalization and held-out
    /// fraction, so a resumed run sees the same split), splits and normalizes the data, and checks that it
    /// fits the model.
    func prepareRun(source: DataSource, budget: MemoryBudget, dataBytes: Int) throws -> PreparedRun {
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
        return PreparedRun(trainer: trainer, train: train, test: test, normalization: normalization, heldOutFraction: heldOutFraction)
    }

    /// Makes this process one worker of a data-parallel run: the workers first check that they agree (workers
    /// that differ would call collectives of other counts and sizes), then take worker 0's parameters and
    /// buffers (every worker built the same model from the same seed, or read the same checkpoint, but a
    /// file may differ).
    func join(_ parallelism: TrainingParallelism, _ run: inout PreparedRun) throws {
        try agreement(trainer: run.trainer, train: run.train, test: run.test, settings: parallelism.settings).check(over: parallelism.reduction)
        run.trainer.gradientReduction = parallelism.reduction
        try parallelism.reduction.broadcast(&run.trainer.model.parameters)
        if !run.trainer.model.buffers.isEmpty { try parallelism.reduction.broadcast(&run.trainer.model.buffers) }
        // Until the first epoch is saved, the checkpoint being resumed is the last complete one.
        if let resume { parallelism.checkpointCompleted(resume) }
    }

    /// The two lines that say what is about to be trained on what.
    func printHeader(_ run: PreparedRun, source: DataSource, parallelism: TrainingParallelism?) {
        let configuration = run.trainer.configuration
        print("data: \(source.name): \(run.train.count) training, \(run.test.count) test examples")
        print("model: \(configuration.modelDescription(inputSize: run.trainer.inputSize, classCount: run.trainer.classCount)), \(run.trainer.model.parameterCount) parameters; "
            + "\(configuration.optimizer.rawValue) lr \(configuration.learningRate), batch \(configuration.batchSize), "
            + "\(configuration.epochs) epochs, seed \(configuration.seed)"
            + (parallelism.map { "; data parallel over \($0.reduction.workerCount) processes" } ?? "")
            + (run.trainer.completedEpochs > 0 ? "; resuming after epoch \(run.trainer.completedEpochs)" : ""))
    }

    /// Trains the remaining epochs, showing progress and writing the checkpoint after each one (a resumed run
    /// that had already finished trains nothing, and its checkpoint is still written where asked). A run
    /// whose loss or gradients stop being finite, or that anomaly detection stops, ends with a `RunFailure`
    /// naming the last finite checkpoint. Returns the seconds spent training.
    func trainEpochs(
        _ run: inout PreparedRun, source: DataSource, outputs: (checkpoint: String, plot: String),
        parallelism: TrainingParallelism?, quiet: Bool
    ) throws -> Double {
        let reporting = parallelism?.isReporting ?? true
        let display = ProgressDisplay(enabled: !quiet)
        let configuration = run.trainer.configuration
        let saveURL = URL(fileURLWithPath: outputs.checkpoint)
        var trainSeconds = 0.0
        var saved = false
        var lastSavedEpoch: Int? = nil
        func writeCheckpoint() throws {
            if reporting {
                try saveCheckpoint(runCheckpoint(run.trainer, run.normalization, source, run.train, run.heldOutFraction), to: saveURL)
            }
            parallelism?.checkpointCompleted(outputs.checkpoint)
        }
        func trainRemainingEpochs() throws {
            while run.trainer.completedEpochs < configuration.epochs {
                let record = try run.trainer.trainEpoch(on: run.train, evaluatingOn: run.test, progress: display.batch)
                trainSeconds += record.seconds
                let left = record.seconds * Double(configuration.epochs - run.trainer.completedEpochs)
                display.epoch(record, epochs: configuration.epochs, runSecondsLeft: left)
                try writeCheckpoint()
                saved = true
                lastSavedEpoch = run.trainer.completedEpochs
            }
        }
        do {
            if detectAnomaly { try withAnomalyDetection { try trainRemainingEpochs() } } else { try trainRemainingEpochs() }
        } catch let diverged as TrainingDiverged {
            display.finish()
            throw divergenceFailure(String(describing: diverged), savePath: outputs.checkpoint, lastSavedEpoch: lastSavedEpoch,
                                    configuration: configuration, reporting: reporting,
                                    details: ["epoch": diverged.epoch, "batch": diverged.batch, "batches": diverged.batches,
                                              "loss": diverged.loss.isFinite ? diverged.loss : "\(diverged.loss)" as Any,
                                              "gradient_diverged": diverged.gradientDiverged])
        } catch let anomaly as AnomalyDetected {
            display.finish()
            throw divergenceFailure("anomaly detection: " + anomaly.description, savePath: outputs.checkpoint, lastSavedEpoch: lastSavedEpoch,
                                    configuration: configuration, reporting: reporting,
                                    details: ["anomaly": anomaly.description, "primitive": anomaly.primitive, "pass": anomaly.pass])
        }
        if !saved { try writeCheckpoint() }
        return trainSeconds
    }

    /// Evaluates on the test set (sharded over the workers in a data-parallel run; the totals are the whole
    /// test set's everywhere), then, on the reporting worker, writes the curves and prints the accuracy, the
    /// confusion matrix, the files written and, with `--json`, one JSON line.
    func report(
        _ run: PreparedRun, outputs: (checkpoint: String, plot: String), trainSeconds: Double,
        parallelism: TrainingParallelism?, quiet: Bool
    ) throws {
        let evaluation = try run.trainer.evaluationTotals(on: run.test)
        guard parallelism?.isReporting ?? true else { return }
        try writeText(trainingCurvesSVG(run.trainer.history, title: "backprop train"), to: outputs.plot, flag: "--plot")
        print(String(format: "test accuracy %.4f (%d of %d), test loss %.4f; training took %.2f s",
            evaluation.accuracy, evaluation.correct, run.test.count, evaluation.loss, trainSeconds))
        if !quiet {
            print("confusion matrix (rows: true class, columns: predicted):")
            print(evaluation.confusion.description)
        }
        print("checkpoint: \(outputs.checkpoint)\nplot: \(outputs.plot)")
        if json {
            var object: [String: Any] = [
                "test_accuracy": evaluation.accuracy, "test_loss": evaluation.loss, "train_seconds": trainSeconds,
                "epochs": run.trainer.completedEpochs, "checkpoint": outputs.checkpoint, "plot": outputs.plot,
                "train_examples": run.train.count, "test_examples": run.test.count,
                "final_train_loss": run.trainer.history.last?.trainLoss ?? Double.nan,
                "compiled_steps": run.trainer.compilesSteps && run.trainer.eagerStepReason == nil,
            ]
            if let parallelism {
                object["processes"] = parallelism.reduction.workerCount
                object.merge(parallelism.report()) { _, extra in extra }
            }
            print(try jsonLine(object))
        }
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
    /// came from, the held-out fraction, the original label values when labels were renumbered, and the
    /// input preprocessing (the source's scaling, the standardisation, the example shape, the class names),
    /// so that raw rows get the training-time answers.
    func runCheckpoint(
        _ trainer: ClassifierTrainer<Float>, _ normalization: Normalization<Float>?, _ source: DataSource,
        _ train: Dataset<Float>, _ testFraction: Double
    ) -> Checkpoint {
        var checkpoint = trainer.checkpoint(normalization: normalization)
        checkpoint.metadata["data_source"] = source.identity
        checkpoint.metadata["test_fraction"] = "\(testFraction)"
        let labelValues = train.labelValues?.map { "\($0)" }
        if let labelValues { checkpoint.metadata["label_values"] = labelValues.joined(separator: ",") }
        let exampleShape = trainer.configuration.exampleShape ?? (try? source.imageShape()) ?? nil
        InputPreprocessing(scale: source.inputScale, normalization: normalization, exampleShape: exampleShape, classNames: labelValues)
            .store(in: &checkpoint)
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
