import BackpropNN
import Foundation

extension TrainOptions {
    /// The language model `--model` names, or the one a `--resume` checkpoint holds; nil for a classifier.
    func languageModelKind() throws -> LanguageModelKind? {
        if let kind = model?.languageModel { return kind }
        guard model == nil, architecture == nil, let resume else { return nil }
        try checkCheckpointMemory(resume, flag: "--resume", budget: try memory.budget(), otherBytes: 0)
        let checkpoint = try loadCheckpoint(resume)
        guard checkpoint.metadata["format"] == LanguageModelTrainer<Float>.formatName else { return nil }
        guard let kind = checkpoint.metadata["lm.kind"].flatMap(LanguageModelKind.init(rawValue:)) else {
            throw UserError("--resume \(resume): the language-model checkpoint names no model kind (lm.kind)")
        }
        return kind
    }

    /// Runs `backprop train --model transformer|lstm|gru|rnn` (or `--resume` of such a run): reads the text, splits it, trains (fresh or
    /// resumed), writes the checkpoint after every epoch and the curves at the end, and prints the validation
    /// loss per character, its bits per character and a sample.
    ///
    /// - Throws: `UserError` for bad flags or files, `RunFailure` when training diverges.
    func runLanguageModel(_ kind: LanguageModelKind) throws {
        let flag = "--model \(kind.rawValue)"
        let classifierOnly = [("--label-column", labelColumn != nil), ("--architecture", architecture != nil),
                              ("--image-shape", imageShape != nil), ("--activation", activation != nil),
                              ("--compiled", steps == .compiled)]
        if let (name, _) = classifierOnly.first(where: \.1) { throw UserError("\(name) applies to classifiers, not to \(flag)") }
        guard let data else {
            throw UserError("\(flag) needs --data: a UTF-8 text file or a folder of them (with --word-list, one word per line)")
        }
        if let stepsPerEpoch, stepsPerEpoch < 1 { throw UserError("--steps-per-epoch must be at least 1, got \(stepsPerEpoch)") }
        for (name, value) in [("--context", context), ("--width", width), ("--heads", heads)] {
            if let value, value < 1 || value > 1 << 20 { throw UserError("\(name) must be a positive number up to 2^20, got \(value)") }
        }
        let stem = "backprop-\(kind.rawValue)"
        let savePath = save ?? resume ?? stem + ".safetensors"
        let plot = self.plot ?? stem + ".svg"
        var files = RunFiles()
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: data, isDirectory: &isFolder), isFolder.boolValue {
            files.readsEveryFile(inFolder: data, flag: "--data")
        } else {
            files.reads(data, flag: "--data")
        }
        if let resume { files.reads(resume, flag: "--resume") }
        files.writes(savePath, flag: "--save", replacing: resume)
        files.writes(plot, flag: "--plot")
        try files.check()
        try checkWritable(savePath, flag: "--save")
        try checkWritable(plot, flag: "--plot")

        let budget = try memory.budget()
        let textSize = Self.textSize(at: data)
        let textBytes = saturating([textSize, MemoryEstimate.textByte], multiply: true)
        try budget.check(textBytes, for: "--data \(data): reading its \(formatBytes(textSize)) of text", advice: "use a shorter text")
        if let resume { try checkCheckpointMemory(resume, flag: "--resume", budget: budget, otherBytes: textBytes) }
        var resumed: (LanguageModelTrainer<Float>, fraction: Double?)? = nil
        if let resume {
            let checkpoint = try loadCheckpoint(resume)
            do { resumed = (try LanguageModelTrainer<Float>(resumingFrom: checkpoint, epochs: epochs), try recordedTestFraction(checkpoint, path: resume, flag: "--resume")) } catch let error as CheckpointError {
                throw UserError("--resume \(resume): \(error.description)")
            }
        }
        let shape: TextCorpus.Shape = resumed?.0.configuration.textShape ?? (wordList ? .wordList : .text)
        let corpus: TextCorpus
        do { corpus = try TextCorpus(contentsOf: URL(fileURLWithPath: data), shape: shape) } catch let error as DataError {
            throw UserError("--data: \(error.description)")
        }
        var trainer: LanguageModelTrainer<Float>
        var validationFraction = testFraction ?? 0.1
        /// Checks that training fits the budget, before the model is built (a resumed one: before it trains).
        func checkTrainingMemory(_ configuration: LanguageModelTrainingConfiguration) throws {
            // A batch holds at most as many windows as the text has characters.
            let batch = Swift.min(configuration.batchSize, corpus.characterCount)
            let (needed, largest) = MemoryEstimate.languageModelBytes(configuration, batch: batch)
            try budget.check(
                saturating([textBytes, needed]),
                for: "training \(configuration.model.summary) with \(configuration.optimizer.rawValue) on batches of \(batch) windows of \(configuration.model.context) characters",
                advice: configuration.model.kind == .transformer
                    ? "use a smaller --context (the attention weights grow with its square), --width, --layers or --batch-size"
                    : "use a smaller --context, --width, --layers or --batch-size",
                largestBlock: largest)
        }
        if let (restored, fraction) = resumed {
            try checkTrainingMemory(restored.configuration)
            trainer = restored
            if let fraction { validationFraction = fraction }
        } else {
            let configuration = LanguageModelConfiguration(
                kind: kind, vocabularySize: corpus.vocabulary.count, context: context ?? 64, layers: try languageModelLayers(),
                width: width ?? (kind == .transformer ? 128 : 256), heads: heads ?? 4, dropout: dropout ?? 0)
            if let problem = configuration.problem { throw UserError("\(flag): \(problem)") }
            let epochCount = epochs ?? 10
            let training = LanguageModelTrainingConfiguration(
                model: configuration, epochs: epochCount, batchSize: batchSize ?? 32, optimizer: try parseOptimizer(optimizer ?? "adamw"),
                learningRate: lr ?? 1e-3, schedule: try parseSchedule(schedule ?? "constant", epochs: epochCount), maxGradientNorm: clipNorm,
                seed: seed ?? 0, stepsPerEpoch: stepsPerEpoch, textShape: shape)
            try checkTrainingMemory(training)
            trainer = LanguageModelTrainer(configuration: training, vocabulary: corpus.vocabulary)
        }
        let configuration = trainer.configuration
        let window = configuration.model.context
        let split: (training: [UInt16], validation: [UInt16])
        do { split = try corpus.split(validationFraction: validationFraction, seed: configuration.seed, vocabulary: trainer.vocabulary) } catch let error as DataError {
            throw UserError("--data: \(error.description)" + (resume == nil ? "" : " (the text must use the characters the model was trained on)"))
        }
        guard split.training.count > window, split.validation.count > window else {
            throw UserError(
                "--data: \(corpus.characterCount) characters are too few: the training (\(split.training.count)) and validation (\(split.validation.count)) "
                    + "texts must each hold more than one window of --context \(window); give a longer text, a smaller --context or another --test-fraction")
        }
        let training = TextWindows(tokens: split.training, context: window)
        let validation = TextWindows(tokens: split.validation, context: window)

        let display = ProgressDisplay(enabled: !quiet, perCharacter: true)
        let stepsPerEpoch = trainer.batches(of: training, epoch: trainer.completedEpochs).count
        if !quiet {
            print("data: \(data): \(corpus.characterCount) characters (\(corpus.vocabulary.count) distinct)"
                + (shape == .wordList ? " in \(corpus.pieces.count) words" : "")
                + "; \(split.training.count) for training, \(split.validation.count) for validation")
            print("model: \(configuration.model.summary), \(trainer.model.parameterCount) parameters; "
                + "\(configuration.optimizer.rawValue) lr \(configuration.learningRate), batch \(configuration.batchSize), "
                + "\(configuration.epochs) epochs of \(stepsPerEpoch) steps, seed \(configuration.seed)"
                + (trainer.completedEpochs > 0 ? "; resuming after epoch \(trainer.completedEpochs)" : ""))
        }
        var trainSeconds = 0.0
        var lastSavedEpoch: Int? = nil
        func writeCheckpoint() throws {
            var checkpoint = trainer.checkpoint()
            checkpoint.metadata["test_fraction"] = "\(validationFraction)"
            checkpoint.metadata["data_source"] = URL(fileURLWithPath: data).standardizedFileURL.path
            try saveCheckpoint(checkpoint, to: URL(fileURLWithPath: savePath))
        }
        func trainRemainingEpochs() throws {
            while trainer.completedEpochs < configuration.epochs {
                let record = try trainer.trainEpoch(on: training, evaluatingOn: validation, progress: display.batch)
                trainSeconds += record.seconds
                display.epoch(record, epochs: configuration.epochs, runSecondsLeft: record.seconds * Double(configuration.epochs - trainer.completedEpochs))
                try writeCheckpoint()
                lastSavedEpoch = trainer.completedEpochs
            }
        }
        let classifierStyle = TrainingConfiguration(learningRate: configuration.learningRate, maxGradientNorm: configuration.maxGradientNorm)
        do {
            if detectAnomaly { try withAnomalyDetection { try trainRemainingEpochs() } } else { try trainRemainingEpochs() }
        } catch let diverged as TrainingDiverged {
            display.finish()
            throw divergenceFailure(String(describing: diverged), savePath: savePath, lastSavedEpoch: lastSavedEpoch,
                                    configuration: classifierStyle,
                                    details: ["epoch": diverged.epoch, "batch": diverged.batch, "batches": diverged.batches,
                                              "loss": diverged.loss.isFinite ? diverged.loss : "\(diverged.loss)" as Any,
                                              "gradient_diverged": diverged.gradientDiverged])
        } catch let anomaly as AnomalyDetected {
            display.finish()
            throw divergenceFailure("anomaly detection: " + anomaly.description, savePath: savePath, lastSavedEpoch: lastSavedEpoch,
                                    configuration: classifierStyle,
                                    details: ["anomaly": anomaly.description, "primitive": anomaly.primitive, "pass": anomaly.pass])
        }
        if lastSavedEpoch == nil { try writeCheckpoint() }

        let evaluation = trainer.history.last.flatMap { record in
            record.testLoss.map { LanguageModelEvaluation(loss: $0, accuracy: record.testAccuracy ?? .nan, characters: 0) }
        } ?? trainer.evaluate(on: validation)
        try writeText(trainingCurvesSVG(trainer.history, title: "backprop train --model \(kind.rawValue)"), to: plot, flag: "--plot")
        print(String(format: "validation loss %.4f nats/char (%.3f bits/char), next-character accuracy %.4f; training took %.2f s",
                     evaluation.loss, evaluation.bitsPerCharacter, evaluation.accuracy, trainSeconds))
        let prompt = trainer.vocabulary.index(of: "\n") != nil ? "\n" : trainer.vocabulary.decode([0])
        let sample = try trainer.generate(prompt: prompt, length: shape == .wordList ? 120 : 240, temperature: 0.8, seed: configuration.seed)
        if !quiet {
            if shape == .wordList {
                let words = sample.split(separator: "\n").dropLast().prefix(10).joined(separator: " ")
                print("sample words (temperature 0.8): \(words)")
            } else {
                print("sample (temperature 0.8):\n\(prompt == "\n" ? "" : prompt)\(sample)")
            }
        }
        print("checkpoint: \(savePath)\nplot: \(plot)")
        if json {
            print(try jsonLine([
                "validation_loss": evaluation.loss, "validation_bits_per_character": evaluation.bitsPerCharacter,
                "validation_accuracy": evaluation.accuracy, "train_seconds": trainSeconds, "epochs": trainer.completedEpochs,
                "steps": trainer.optimizer.state.step, "checkpoint": savePath, "plot": plot,
                "training_characters": split.training.count, "validation_characters": split.validation.count,
                "final_train_loss": trainer.history.last?.trainLoss ?? Double.nan, "parameters": trainer.model.parameterCount,
            ]))
        }
    }

    /// The bytes of text at `path`: the file's size, or the sum of a folder's files (hidden ones apart), as
    /// `TextCorpus` reads them; 0 when there is nothing (reading it then says why).
    static func textSize(at path: String) -> Int {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return 0 }
        let files = isFolder.boolValue
            ? (FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey], options: [.skipsHiddenFiles])?.allObjects as? [URL] ?? [])
            : [url]
        return saturating(files.map { (try? $0.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) ?? 0 })
    }

    /// `--layers` read as a language model's layer count (default 2).
    func languageModelLayers() throws -> Int {
        guard let layers else { return 2 }
        guard let count = Int(layers.trimmingCharacters(in: .whitespaces)), count >= 1, count <= 1024 else {
            throw UserError("--layers: for a language model, the number of blocks or recurrent layers (1 to 1024), got '\(layers)'")
        }
        return count
    }
}
