import ArgumentParser
import BackpropNN
import Foundation

/// `backprop train`: trains a multilayer perceptron classifier, by default on the bundled digits.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an MLP or a convolutional classifier (by default an MLP on the bundled handwritten digits).",
        discussion: """
            With no arguments: MLP 64-128-10 (ReLU), Adam lr 1e-3, batches of 32, 30 epochs on the bundled \
            digits, a seeded 20% held out as test set. Writes the checkpoint (safetensors) and an SVG of the \
            loss and accuracy curves. --model cnn or --architecture SPEC trains a convolutional network instead, \
            e.g. backprop train --data ../shared/data/mnist5k --model cnn --epochs 10 --batch-size 64.
            """)

    @Option(help: "A CSV file (one example per line, numeric, label in one column) or a folder with MNIST's IDX files (train-*, t10k-*). Default: the bundled digits.")
    var data: String?

    @Option(help: "The CSV label column, 0-based; negative counts from the end. Default: the last.")
    var labelColumn: Int?

    @Option(help: "mlp (hidden widths from --layers) or cnn (the built-in small CNN: conv 3x3 to 16, ReLU, max-pool 2, conv 3x3 to 32, ReLU, max-pool 2, linear 128, ReLU).")
    var model: ModelKind = .mlp

    @Option(help: ArgumentHelp("A network as comma-separated layers, e.g. conv:16:3:p1,relu,maxpool:2,flatten,linear:64,relu (conv:OUT:K[:sS][:pP][:dD][:gG][:nobias], maxpool:K, avgpool:K, bn, gap, flatten, linear:OUT, relu, tanh, sigmoid, dropout:P); the classifier layer is added.", valueName: "spec"))
    var architecture: String?

    @Option(help: ArgumentHelp("The shape of one example for a convolutional network, CxHxW (e.g. 1x8x8). IDX files and the bundled digits carry theirs.", valueName: "CxHxW"))
    var imageShape: String?

    @Option(help: "Hidden layer widths, comma-separated (e.g. 128,64).")
    var layers: String = "128"

    @Option(help: "Hidden activation: relu, tanh or sigmoid.")
    var activation: String = "relu"

    @Option(help: "Dropout probability after each hidden activation.")
    var dropout: Double = 0

    @Option(help: "Passes over the training set (default 30; with --resume, the new total).")
    var epochs: Int?

    @Option(help: "Examples per gradient step.")
    var batchSize: Int = 32

    @Option(help: "sgd, momentum, nesterov, adam, adamw or rmsprop.")
    var optimizer: String = "adam"

    @Option(help: "Learning rate.")
    var lr: Double = 1e-3

    @Option(help: "Learning-rate schedule: constant, step:EPOCHS:FACTOR, exponential:FACTOR, cosine[:MIN].")
    var schedule: String = "constant"

    @Option(help: "Clip gradients to this global norm.")
    var clipNorm: Double?

    @Option(help: "Fraction of the examples held out as test set (not for MNIST, which has its own).")
    var testFraction: Double = 0.2

    @Option(help: "Seed for the initial weights, the split, the shuffling and dropout.")
    var seed: UInt64 = 0

    @Option(help: "Where to write the checkpoint (safetensors). Default: backprop-mlp.safetensors (backprop-cnn.safetensors for a convolutional network), or the --resume file.")
    var save: String?

    @Option(help: "Resume the run saved in this checkpoint (same data).")
    var resume: String?

    @Option(help: "Where to write the SVG of loss and accuracy per epoch. Default: backprop-mlp.svg (backprop-cnn.svg for a convolutional network).")
    var plot: String?

    @Flag(help: "End with one JSON object on the last line (test_accuracy, train_seconds, epochs, checkpoint, ...).")
    var json = false

    @Flag(help: "Stop at the first operation whose value or gradient is NaN or infinite and name it (slower; for debugging a diverging run).")
    var detectAnomaly = false

    @Flag(help: "Print only the results (no per-epoch progress).")
    var quiet = false

    func run() throws {
        let source = try DataSource(path: data, labelColumn: labelColumn)
        guard batchSize > 0 else { throw UserError("--batch-size must be positive, got \(batchSize)") }
        guard lr > 0, lr.isFinite else { throw UserError("--lr must be a positive number, got \(lr)") }
        if let epochs, epochs < 1 { throw UserError("--epochs must be at least 1, got \(epochs)") }
        guard testFraction > 0, testFraction < 1 else { throw UserError("--test-fraction must lie strictly between 0 and 1, got \(testFraction)") }
        guard (0..<1).contains(dropout) else { throw UserError("--dropout must lie in [0, 1), got \(dropout)") }
        if let clipNorm, !(clipNorm > 0) { throw UserError("--clip-norm must be positive, got \(clipNorm)") }

        // A convolutional network's files are named for it, so that an MLP run's are not overwritten.
        let stem = model == .cnn || architecture != nil ? "backprop-cnn" : "backprop-mlp"
        let plot = self.plot ?? stem + ".svg"
        try checkWritable(save ?? resume ?? stem + ".safetensors", flag: "--save")
        try checkWritable(plot, flag: "--plot")
        // Read the data once: a CSV file parsed or MNIST decompressed twice costs seconds.
        let all = try source.load()
        let testPart = try source.loadTestPart()
        var trainer: ClassifierTrainer<Float>
        var heldOutFraction = testFraction
        var normalization: Normalization<Float>? = nil
        let savePath = save ?? resume ?? stem + ".safetensors"
        if let resume {
            let checkpoint = try loadCheckpoint(resume)
            do { trainer = try ClassifierTrainer<Float>(resumingFrom: checkpoint, epochs: epochs) } catch let error as CheckpointError {
                throw UserError("--resume \(resume): \(error.description)")
            }
            normalization = try checkpoint.normalization(as: Float.self)
            // The resumed run must see the same split as the run it continues.
            if let fraction = checkpoint.metadata["test_fraction"].flatMap(Double.init) { heldOutFraction = fraction }
        } else {
            var configuration = TrainingConfiguration(
                hiddenWidths: try parseWidths(layers), activation: try parseActivation(activation), dropout: dropout,
                epochs: epochs ?? 30, batchSize: batchSize, optimizer: try parseOptimizer(optimizer), learningRate: lr,
                schedule: try parseSchedule(schedule, epochs: epochs ?? 30), maxGradientNorm: clipNorm, seed: seed)
            if let (network, shape) = try chosenArchitecture(source: source, featureCount: all.featureCount) {
                configuration.architecture = network
                configuration.exampleShape = shape
                configuration.hiddenWidths = []
            }
            trainer = try freshTrainer(configuration, all: all, testPart: testPart)
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

        let display = ProgressDisplay(enabled: !quiet)
        let configuration = trainer.configuration
        if !quiet {
            print("data: \(source.name): \(train.count) training, \(test.count) test examples")
            print("model: \(configuration.modelDescription(inputSize: trainer.inputSize, classCount: trainer.classCount)), \(trainer.model.parameterCount) parameters; "
                + "\(configuration.optimizer.rawValue) lr \(configuration.learningRate), batch \(configuration.batchSize), "
                + "\(configuration.epochs) epochs, seed \(configuration.seed)"
                + (trainer.completedEpochs > 0 ? "; resuming after epoch \(trainer.completedEpochs)" : ""))
        }
        let saveURL = URL(fileURLWithPath: savePath)
        var trainSeconds = 0.0
        var saved = false
        var lastSavedEpoch: Int? = nil
        func trainRemainingEpochs() throws {
            while trainer.completedEpochs < configuration.epochs {
                let record = try trainer.trainEpoch(on: train, evaluatingOn: test, progress: display.batch)
                trainSeconds += record.seconds
                let left = record.seconds * Double(configuration.epochs - trainer.completedEpochs)
                display.epoch(record, epochs: configuration.epochs, runSecondsLeft: left)
                try saveCheckpoint(runCheckpoint(trainer, normalization, source, train, heldOutFraction), to: saveURL)
                saved = true
                lastSavedEpoch = trainer.completedEpochs
            }
        }
        do {
            if detectAnomaly { try withAnomalyDetection { try trainRemainingEpochs() } } else { try trainRemainingEpochs() }
        } catch let diverged as TrainingDiverged {
            display.finish()
            throw divergenceFailure(String(describing: diverged), savePath: savePath, lastSavedEpoch: lastSavedEpoch,
                                    configuration: configuration,
                                    details: ["epoch": diverged.epoch, "batch": diverged.batch, "batches": diverged.batches,
                                              "loss": diverged.loss.isFinite ? diverged.loss : "\(diverged.loss)" as Any,
                                              "gradient_diverged": diverged.gradientDiverged])
        } catch let anomaly as AnomalyDetected {
            display.finish()
            throw divergenceFailure("anomaly detection: " + anomaly.description, savePath: savePath, lastSavedEpoch: lastSavedEpoch,
                                    configuration: configuration,
                                    details: ["anomaly": anomaly.description, "primitive": anomaly.primitive, "pass": anomaly.pass])
        }
        // A resumed run that had already finished trains nothing; its checkpoint is still written where asked.
        if !saved { try saveCheckpoint(runCheckpoint(trainer, normalization, source, train, heldOutFraction), to: saveURL) }

        let evaluation = trainer.evaluate(on: test)
        let matrix = ConfusionMatrix(predictions: evaluation.predictions, labels: test.labels, classCount: trainer.classCount)
        try writeText(trainingCurvesSVG(trainer.history, title: "backprop train"), to: plot, flag: "--plot")
        print(String(format: "test accuracy %.4f (%d of %d), test loss %.4f; training took %.2f s",
            evaluation.accuracy, zip(evaluation.predictions, test.labels).filter { $0 == $1 }.count, test.count, evaluation.loss, trainSeconds))
        if !quiet {
            print("confusion matrix (rows: true class, columns: predicted):")
            print(matrix.description)
        }
        print("checkpoint: \(savePath)\nplot: \(plot)")
        if json {
            let object: [String: Any] = [
                "test_accuracy": evaluation.accuracy, "test_loss": evaluation.loss, "train_seconds": trainSeconds,
                "epochs": trainer.completedEpochs, "checkpoint": savePath, "plot": plot,
                "train_examples": train.count, "test_examples": test.count,
                "final_train_loss": trainer.history.last?.trainLoss ?? Double.nan,
            ]
            print(try jsonLine(object))
        }
    }

    /// The failure a diverged run ends with: what happened, which checkpoint is kept, and what to try; with
    /// `--json`, the same as a JSON line on stdout first.
    func divergenceFailure(
        _ what: String, savePath: String, lastSavedEpoch: Int?, configuration: TrainingConfiguration,
        details: [String: Any]
    ) -> Error {
        let kept = lastSavedEpoch.map { "the checkpoint of epoch \($0) in \(savePath) is the last finite one" }
            ?? (FileManager.default.fileExists(atPath: savePath)
                ? "\(savePath) was left as it was" : "no checkpoint was written")
        let advice = "try a smaller --lr (now \(configuration.learningRate))"
            + (configuration.maxGradientNorm == nil ? " or --clip-norm 1" : " or a smaller --clip-norm")
            + (detectAnomaly ? "" : ", or --detect-anomaly to find the first operation that produced a NaN")
        if json {
            var object = details
            object["diverged"] = true
            object["checkpoint"] = lastSavedEpoch == nil ? nil : savePath
            object["message"] = what
            if let line = try? jsonLine(object) { print(line) }
        }
        return RunFailure("\(what); \(kept); \(advice)")
    }

    /// The network `--model cnn` or `--architecture` asks for and the example shape it gets, checked against
    /// the data; nil for the MLP.
    func chosenArchitecture(source: DataSource, featureCount: Int) throws -> (ArchitectureSpecification, [Int])? {
        let network: ArchitectureSpecification
        if architecture != nil && model == .cnn { throw UserError("give --model cnn or --architecture, not both") }
        if let architecture {
            do { network = try ArchitectureSpecification(parsing: architecture) } catch let error as ArchitectureError {
                throw UserError("--architecture: \(error.message)")
            }
        } else if model == .cnn {
            network = .smallCNN
        } else {
            guard imageShape == nil else { throw UserError("--image-shape applies to a convolutional network (--model cnn or --architecture)") }
            return nil
        }
        guard layers == "128", activation == "relu", dropout == 0 else {
            throw UserError("--layers, --activation and --dropout describe the MLP; write the network with --architecture instead")
        }
        var shape: [Int]
        if let imageShape {
            let dimensions = imageShape.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard dimensions.count == 3, dimensions.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw UserError("--image-shape: expected CxHxW such as 1x28x28, got '\(imageShape)'")
            }
            shape = dimensions.map { $0! }
        } else if let known = try source.imageShape() {
            shape = known
        } else {
            shape = [featureCount]
        }
        guard shape.reduce(1, *) == featureCount else {
            throw UserError("--image-shape \(shape.map(String.init).joined(separator: "x")) holds \(shape.reduce(1, *)) values, the data has \(featureCount) features per example")
        }
        do {
            try network.validate(exampleShape: shape, classCount: 2)
        } catch let error as ArchitectureError {
            let hint = shape.count == 1 ? " (give the image shape with --image-shape CxHxW)" : ""
            throw UserError("the network does not fit the data: \(error.message)\(hint)")
        }
        return (network, shape)
    }

    /// A trainer with a fresh model sized for the data.
    func freshTrainer(
        _ configuration: TrainingConfiguration, all: Dataset<Float>, testPart: Dataset<Float>?
    ) throws -> ClassifierTrainer<Float> {
        guard all.count > 0 else { throw UserError("--data: the data set is empty") }
        let classCount = Swift.max(all.classCount, testPart?.classCount ?? 0)
        guard classCount >= 2 else { throw UserError("--data: a classifier needs at least two classes, found \(classCount)") }
        if configuration.architecture == nil {
            // The MLP's weights, layer by layer: refuse what would not fit in memory rather than crash allocating it.
            let widths = [all.featureCount] + configuration.hiddenWidths + [classCount]
            let weights = zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
            guard weights <= ArchitectureSpecification.sizeLimit else {
                throw UserError("--layers: an MLP \(widths.map(String.init).joined(separator: "-")) would have \(weights) weights, more than the \(ArchitectureSpecification.sizeLimit) this tool allows")
            }
        } else if let architecture = configuration.architecture {
            do {
                try architecture.validate(exampleShape: configuration.exampleShape ?? [all.featureCount], classCount: classCount)
            } catch let error as ArchitectureError {
                throw UserError("the network does not fit the data: \(error.message)")
            }
        }
        return ClassifierTrainer(configuration: configuration, inputSize: all.featureCount, classCount: classCount)
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

/// The kind of network `--model` names.
enum ModelKind: String, ExpressibleByArgument, CaseIterable {
    /// A multilayer perceptron of `--layers`.
    case mlp
    /// The built-in small convolutional network.
    case cnn
}

/// Checks that `data` fits the trainer's model (after a resume, or for `evaluate`, the data must be like
/// what the model was trained on): the feature count, and every label a class of the model.
func checkDataFits(_ data: Dataset<Float>, named name: String, _ trainer: ClassifierTrainer<Float>) throws {
    guard data.featureCount == trainer.inputSize else {
        throw UserError("the \(name) data has \(data.featureCount) features per example, the model expects \(trainer.inputSize)")
    }
    if let bad = data.labels.first(where: { $0 >= trainer.classCount }) {
        throw UserError("the \(name) data has label \(bad), the model has \(trainer.classCount) classes")
    }
}

/// Parses `128,64` into widths.
func parseWidths(_ text: String) throws -> [Int] {
    if text.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let widths = parts.compactMap { Int($0) }
    guard widths.count == parts.count, widths.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }) else {
        throw UserError("--layers: expected comma-separated positive widths such as 128,64, got '\(text)'")
    }
    return widths
}

/// Parses an activation name.
func parseActivation(_ text: String) throws -> Activation {
    guard let activation = Activation(rawValue: text.lowercased()) else {
        throw UserError("--activation: unknown '\(text)'; choose one of \(Activation.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return activation
}

/// Parses an optimizer name.
func parseOptimizer(_ text: String) throws -> OptimizerChoice {
    guard let choice = OptimizerChoice(rawValue: text.lowercased()) else {
        throw UserError("--optimizer: unknown '\(text)'; choose one of \(OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return choice
}

/// Parses a schedule.
func parseSchedule(_ text: String, epochs: Int) throws -> LearningRateSchedule {
    guard let schedule = LearningRateSchedule(parsing: text, totalEpochs: epochs) else {
        throw UserError("--schedule: cannot read '\(text)'; use constant, step:EPOCHS:FACTOR, exponential:FACTOR or cosine[:MIN]")
    }
    return schedule
}

/// Loads a checkpoint, turning file problems into user errors.
func loadCheckpoint(_ path: String) throws -> Checkpoint {
    guard FileManager.default.fileExists(atPath: path) else { throw UserError("no such checkpoint file: \(path)") }
    do { return try Checkpoint.load(from: URL(fileURLWithPath: path)) } catch let error as CheckpointError {
        throw UserError(error.description.contains(URL(fileURLWithPath: path).lastPathComponent) ? error.description : "\(path): \(error.description)")
    }
}

/// Fails early, before any work, when `path` cannot be written: its folder is missing or read-only.
func checkWritable(_ path: String, flag: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw UserError("\(flag): cannot write \(path): the folder \(folder) does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: folder) else {
        throw UserError("\(flag): cannot write \(path): the folder \(folder) is not writable")
    }
}

/// Saves a checkpoint atomically, turning file problems into user errors.
func saveCheckpoint(_ checkpoint: Checkpoint, to url: URL) throws {
    do { try checkpoint.save(to: url) } catch let error as CheckpointError {
        throw UserError("cannot write the checkpoint \(url.path): \(error.description)")
    }
}

/// Writes a text file, turning failures into user errors that name the flag.
func writeText(_ text: String, to path: String, flag: String) throws {
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw UserError("\(flag): cannot write \(path): \(error.localizedDescription)")
    }
}

/// One line of JSON with sorted keys.
func jsonLine(_ object: [String: Any]) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}
