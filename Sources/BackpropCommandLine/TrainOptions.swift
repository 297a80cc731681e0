import ArgumentParser
import BackpropNN
import Foundation

/// The options of `backprop train`, one definition shared by every executable that trains (`backprop train`,
/// `backprop-mpi train`), and what they mean: the network they ask for and a fresh trainer for it.
/// `run(parallelism:)` (TrainRun.swift) carries the run out.
public struct TrainOptions: ParsableArguments {
    /// The train command's one-line description.
    public static let abstract = "Train an MLP or a convolutional classifier (by default an MLP on the bundled handwritten digits)."

    /// The train command's longer description.
    public static let discussion = """
        With no arguments: MLP 64-128-10 (ReLU), Adam lr 1e-3, batches of 32, 30 epochs on the bundled \
        digits, a seeded 20% held out as test set. Writes the checkpoint (safetensors) and an SVG of the \
        loss and accuracy curves. --model cnn or --architecture SPEC trains a convolutional network instead, \
        e.g. backprop train --data ../shared/data/mnist5k --model cnn --epochs 10 --batch-size 64.
        """

    /// Options with their defaults (ArgumentParser fills them from the command line).
    public init() {}

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
}
