import ArgumentParser
import BackpropNN
import Foundation

/// The options of `backprop train`, one definition shared by every executable that trains (`backprop train`,
/// `backprop-mpi train`), and what they mean: the network they ask for and a fresh trainer for it.
/// `run(parallelism:)` (TrainRun.swift) carries the run out.
public struct TrainOptions: ParsableArguments {
    /// The train command's one-line description.
    public static let abstract = "Train an MLP or a convolutional classifier (by default an MLP on the bundled handwritten digits), or a character language model on a text."

    /// The train command's longer description.
    public static let discussion = """
        With no arguments: MLP 64-128-10 (ReLU), Adam lr 1e-3, batches of 32, 30 epochs on the bundled \
        digits, a seeded 20% held out as test set. Writes the checkpoint (safetensors) and an SVG of the \
        loss and accuracy curves. --model cnn or --architecture SPEC trains a convolutional network instead, \
        e.g. backprop train --data ../shared/data/mnist5k --model cnn --epochs 10 --batch-size 64. \
        --model transformer, lstm, gru or rnn trains a character language model on --data, a UTF-8 text file \
        or a folder of them (--word-list: one word per line), e.g. backprop train --data words.txt --word-list \
        --model transformer; backprop generate samples from its checkpoint.
        """

    /// Options with their defaults (ArgumentParser fills them from the command line).
    public init() {}

    @Option(help: "A CSV file (one example per line, numeric, label in one column) or a folder with MNIST's IDX files (train-*, t10k-*). Default: the bundled digits. For a language model: a UTF-8 text file or a folder of them.")
    var data: String?

    @Option(help: "The CSV label column, 0-based; negative counts from the end. Default: the last.")
    var labelColumn: Int?

    @Option(help: "mlp (hidden widths from --layers; the default), cnn (the built-in small CNN: conv 3x3 to 16, ReLU, max-pool 2, conv 3x3 to 32, ReLU, max-pool 2, linear 128, ReLU), or a character language model: transformer, lstm, gru or rnn.")
    var model: ModelKind?

    @Option(help: ArgumentHelp("A network as comma-separated layers, e.g. conv:16:3:p1,relu,maxpool:2,flatten,linear:64,relu (conv:OUT:K[:sS][:pP][:dD][:gG][:nobias], maxpool:K, avgpool:K, bn, gap, flatten, linear:OUT, relu, tanh, sigmoid, dropout:P); the classifier layer is added.", valueName: "spec"))
    var architecture: String?

    @Option(help: ArgumentHelp("The shape of one example for a convolutional network, CxHxW (e.g. 1x8x8). IDX files and the bundled digits carry theirs.", valueName: "CxHxW"))
    var imageShape: String?

    @Option(help: "Hidden layer widths, comma-separated (e.g. 128,64). Default: 128. For a language model: the number of Transformer blocks or recurrent layers (default 2).")
    var layers: String?

    @Option(help: "Hidden activation: relu, tanh or sigmoid. Default: relu.")
    var activation: String?

    @Option(help: "Dropout probability after each hidden activation (a language model: in its blocks, or between its recurrent layers). Default: 0.")
    var dropout: Double?

    @Option(help: "Language model: the characters it reads at once (default 64).")
    var context: Int?

    @Option(help: "Language model: the width of its embeddings and layers (default 128 for a Transformer, 256 for a recurrent network).")
    var width: Int?

    @Option(help: "Transformer: attention heads, dividing the width (default 4).")
    var heads: Int?

    @Option(help: "Language model: at most this many steps make an epoch (default: every window of the training text once).")
    var stepsPerEpoch: Int?

    @Flag(help: "Language model: --data is a word list, one word per line (the model learns to invent words).")
    var wordList = false

    @Option(help: "Passes over the training set (default 30, 10 for a language model; with --resume, the new total).")
    var epochs: Int?

    @Option(help: "Examples per gradient step. Default: 32.")
    var batchSize: Int?

    @Option(help: "sgd, momentum, nesterov, adam, adamw or rmsprop. Default: adam (adamw for a language model).")
    var optimizer: String?

    @Option(help: "Learning rate. Default: 0.001.")
    var lr: Double?

    @Option(help: "Learning-rate schedule: constant, step:EPOCHS:FACTOR, exponential:FACTOR, cosine[:MIN]. Default: constant.")
    var schedule: String?

    @Option(help: "Clip gradients to this global norm.")
    var clipNorm: Double?

    @Option(help: "Fraction of the examples held out as test set (not for MNIST, which has its own). Default: 0.2. For a language model, the share of the text held out for validation (default 0.1).")
    var testFraction: Double?

    @Option(help: "Seed for the initial weights, the split, the shuffling and dropout. Default: 0.")
    var seed: UInt64?

    @Option(help: "Where to write the checkpoint (safetensors). Default: backprop-mlp.safetensors (backprop-cnn.safetensors for a convolutional network), or the --resume file.")
    var save: String?

    @Option(help: "Resume the run saved in this checkpoint (same data; the network, optimizer, learning rate, batch size, split and seed are the checkpoint's, so those flags cannot be given with it).")
    var resume: String?

    @Option(help: "Where to write the SVG of loss and accuracy per epoch. Default: backprop-mlp.svg (backprop-cnn.svg for a convolutional network).")
    var plot: String?

    @Flag(help: "End with one JSON object on the last line (test_accuracy, train_seconds, epochs, checkpoint, ...).")
    var json = false

    @Flag(help: "Stop at the first operation whose value or gradient is NaN or infinite and name it (slower; for debugging a diverging run).")
    var detectAnomaly = false

    /// `--compiled` (what a classifier does when neither is given) or `--eager`; nil when neither is given.
    @Flag var steps: TrainingStepMode?

    /// Whether a classifier's training steps are compiled: unless `--eager` is given, or `--detect-anomaly`,
    /// whose checks see eager operations one by one.
    public var compilesSteps: Bool { steps != .eager && !detectAnomaly }

    @Flag(help: "Print only the results (no per-epoch progress).")
    var quiet = false

    /// `--memory-limit`.
    @OptionGroup var memory: MemoryOptions

    /// Refuses the flags that only a language model takes when training a classifier.
    func checkClassifierFlags() throws {
        let given = [("--context", context != nil), ("--width", width != nil), ("--heads", heads != nil),
                     ("--steps-per-epoch", stepsPerEpoch != nil), ("--word-list", wordList)].filter(\.1).map(\.0)
        if let flag = given.first {
            throw UserError("\(flag) applies to a language model (--model transformer, lstm, gru or rnn), not to a classifier")
        }
    }

    /// The network `--model cnn` or `--architecture` asks for and the example shape it gets, checked against
    /// the data; nil for the MLP.
    func chosenArchitecture(source: DataSource, featureCount: Int) throws -> (ArchitectureSpecification, [Int])? {
        let network: ArchitectureSpecification
        if architecture != nil && model != nil { throw UserError("give --model or --architecture, not both") }
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
        guard layers == nil, activation == nil, dropout == nil else {
            throw UserError("--layers, --activation and --dropout describe the MLP; write the network with --architecture instead")
        }
        var shape: [Int]
        if let imageShape {
            let dimensions = imageShape.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard dimensions.count == 3, dimensions.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw UserError("--image-shape: expected CxHxW such as 1x28x28, got '\(imageShape)'")
            }
            shape = dimensions.map { $0! }
            guard shape.reduce(into: Optional(1), { product, factor in
                product = product.flatMap { p in let (next, overflow) = p.multipliedReportingOverflow(by: factor); return overflow ? nil : next }
            }) == featureCount else {
                throw UserError("--image-shape \(imageShape) does not hold the data's \(featureCount) features per example")
            }
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

    /// A trainer with a fresh model sized for the data, once the memory it will take (with the data's
    /// `dataBytes`) is known to fit `budget`.
    func freshTrainer(
        _ configuration: TrainingConfiguration, all: Dataset<Float>, testPart: Dataset<Float>?, budget: MemoryBudget, dataBytes: Int
    ) throws -> ClassifierTrainer<Float> {
        guard all.count > 0 else { throw UserError("--data: the data set is empty") }
        guard all.featureCount > 0 else { throw UserError("--data: the examples have no features (0 values each)") }
        let classCount = Swift.max(all.classCount, testPart?.classCount ?? 0)
        guard classCount >= 2 else { throw UserError("--data: a classifier needs at least two classes, found \(classCount)") }
        do {
            try ClassifierTrainer<Float>.validate(configuration: configuration, inputSize: all.featureCount, classCount: classCount)
        } catch let error as ConfigurationError {
            if error.setting == "architecture" { throw UserError("the network does not fit the data: \(error.problem.dropPrefix("does not fit: "))") }
            throw UserError("\(Self.flag(for: error.setting)) \(error.problem)")
        }
        var advice = "use a smaller network or a smaller --batch-size"
        if classCount > all.count, let largest = all.labels.max(), all.labelValues == nil {
            advice = "the largest label is \(largest), and integer labels are class numbers: \(classCount) classes for \(all.count) examples; "
                + "renumber the labels 0, 1, 2, …"
        }
        try checkTrainingMemory(configuration, inputSize: all.featureCount, classCount: classCount, examples: all.count,
                                budget: budget, dataBytes: dataBytes, advice: advice)
        return ClassifierTrainer(configuration: configuration, inputSize: all.featureCount, classCount: classCount)
    }

    /// Checks that training a model of `configuration` (with the data's `dataBytes`) fits the budget, before
    /// the model is built.
    /// `examples` nil: known from the data files before they are read (one example a batch, two classes: a
    /// lower bound).
    func checkTrainingMemory(
        _ configuration: TrainingConfiguration, inputSize: Int, classCount: Int, examples: Int?, budget: MemoryBudget, dataBytes: Int,
        advice: String = "use a smaller network or a smaller --batch-size"
    ) throws {
        let bytes = MemoryEstimate.modelBytes(
            configuration, inputSize: inputSize, classCount: classCount, batch: Swift.min(configuration.batchSize, Swift.max(examples ?? 1, 1)),
            training: true)
        let model = configuration.modelDescription(inputSize: inputSize, classCount: classCount)
        try budget.check(
            saturating([dataBytes, bytes.total]),
            for: "training \(model) with \(configuration.optimizer.rawValue) " + (examples.map { "on \($0) examples" } ?? "(as the data's first line says, before reading it)"),
            advice: advice, largestBlock: bytes.largest)
    }

    /// The flag that sets a configuration setting (named by its metadata key).
    static func flag(for setting: String) -> String {
        let flags = [
            "hidden_widths": "--layers", "dropout": "--dropout", "epochs": "--epochs", "batch_size": "--batch-size",
            "learning_rate": "--lr", "max_gradient_norm": "--clip-norm", "schedule": "--schedule",
            "example_shape": "--image-shape", "architecture": "--architecture", "input_size": "--data", "class_count": "--data",
        ]
        return flags[setting] ?? setting
    }

    /// Checks the numbers given on the command line before anything is read: integers in range, and every
    /// real number finite as the 32-bit float that will hold it (1e39 is finite as a Double, not as a Float).
    func checkNumbers() throws {
        if let batchSize, batchSize < 1 { throw UserError("--batch-size must be positive, got \(batchSize)") }
        if let epochs, epochs < 1 { throw UserError("--epochs must be at least 1, got \(epochs)") }
        if let lr {
            guard lr > 0, finiteAsFloat(lr) else { throw UserError("--lr must be a positive number finite as a 32-bit float (at most 3.4e38), got \(lr)") }
            guard Float(lr) > 0 else { throw UserError("--lr \(lr) is 0 as a 32-bit float; give at least 1e-45") }
        }
        if let testFraction {
            guard testFraction > 0, testFraction < 1 else { throw UserError("--test-fraction must lie strictly between 0 and 1, got \(testFraction)") }
        }
        if let dropout {
            guard (0..<1).contains(dropout) else { throw UserError("--dropout must lie in [0, 1), got \(dropout)") }
        }
        if let clipNorm {
            guard clipNorm > 0, finiteAsFloat(clipNorm), Float(clipNorm) > 0 else {
                throw UserError("--clip-norm must be a positive number finite as a 32-bit float, got \(clipNorm)")
            }
        }
    }

    /// With `--resume`, the flags that describe the run (its network, optimizer, batches, split and seed) are
    /// the checkpoint's: giving any of them is a mistake, not a change.
    func checkResumeFlags() throws {
        guard resume != nil else { return }
        let given: [(flag: String, isGiven: Bool)] = [
            ("--model", model != nil), ("--architecture", architecture != nil), ("--image-shape", imageShape != nil),
            ("--layers", layers != nil), ("--activation", activation != nil), ("--dropout", dropout != nil),
            ("--batch-size", batchSize != nil), ("--optimizer", optimizer != nil), ("--lr", lr != nil),
            ("--schedule", schedule != nil), ("--clip-norm", clipNorm != nil), ("--test-fraction", testFraction != nil),
            ("--seed", seed != nil), ("--context", context != nil), ("--width", width != nil), ("--heads", heads != nil),
            ("--steps-per-epoch", stepsPerEpoch != nil), ("--word-list", wordList),
        ]
        let conflicting = given.filter(\.isGiven).map(\.flag)
        guard conflicting.isEmpty else {
            throw UserError(
                "\(conflicting.joined(separator: ", ")) cannot be given with --resume: a resumed run keeps the checkpoint's "
                    + "settings (only --epochs, the new total, may change); start a new run without --resume to change them")
        }
    }
}

/// How a classifier's training steps run: `--compiled` or `--eager`.
enum TrainingStepMode: String, EnumerableFlag {
    /// Through a compiled program.
    case compiled
    /// Operation by operation.
    case eager

    static func help(for value: TrainingStepMode) -> ArgumentHelp? {
        switch value {
        case .compiled:
            "Run a classifier's training steps through a compiled program, traced on the first batch of each size and replayed afterwards (the default); the same numbers as --eager up to rounding. A network with bn trains eagerly (with --compiled, a note says so)."
        case .eager:
            "Run a classifier's training steps operation by operation instead of compiled. Language models always train so."
        }
    }
}

/// Whether `value` is finite when held as a `Float`.
func finiteAsFloat(_ value: Double) -> Bool { value.isFinite && Float(value).isFinite }

extension String {
    /// The string without `prefix`, if it starts with it.
    func dropPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
