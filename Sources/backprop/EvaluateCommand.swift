import ArgumentParser
import BackpropNN
import Foundation
import BackpropCommandLine

/// `backprop evaluate`: a trained checkpoint's accuracy, loss and confusion matrix on a data set.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a trained checkpoint on data: accuracy, loss and a confusion matrix.",
        discussion: """
            On the data the model was trained on, only the held-out part is used (the same seeded split as \
            in training), unless --all is given; on other data, every example.
            """)

    @Option(help: "The checkpoint written by `backprop train`, or a PyTorch MLP state dict in safetensors.")
    var model: String

    @Option(help: "For a PyTorch state dict: the activation between its Linear layers (relu, tanh, sigmoid).")
    var activation: String = "relu"

    @Option(help: "A CSV file or an MNIST folder, as for `train`. Default: the bundled digits.")
    var data: String?

    @Option(help: "The CSV label column, 0-based; negative counts from the end. Default: the last.")
    var labelColumn: Int?

    @Flag(help: "Use every example, even of the data the model was trained on.")
    var all = false

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    /// `--memory-limit`.
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        let source = try DataSource(path: data, labelColumn: labelColumn)
        let budget = try memory.budget()
        let dataBytes = try source.estimatedMemory(within: budget)
        let (trainer, checkpoint) = try loadClassifier(model, activation: activation, budget: budget, otherBytes: dataBytes)
        var examples: Dataset<Float>
        var part = "all examples"
        if let test = try source.loadTestPart() {
            examples = test
            part = "the test part"
        } else {
            examples = try source.load()
            let metadata = checkpoint.metadata
            if !all, metadata["data_source"] == source.identity, let fraction = try recordedTestFraction(checkpoint, path: model, flag: "--model") {
                examples = examples.split(testFraction: fraction, seed: trainer.configuration.seed).test
                part = "the held-out \(Int((fraction * 100).rounded()))%"
            }
        }
        guard examples.count > 0 else { throw UserError("--data: no examples to evaluate") }
        try checkDataFits(examples, named: "evaluation", trainer)
        // The checkpoint's preprocessing on the rows as the source loaded them (already scaled by its own
        // factor: the bundled digits by 1/16), so a CSV of the raw digits gets the bundled set's answers.
        if let preprocessing = trainer.inputPreprocessing {
            if let normalization = preprocessing.normalization, normalization.featureCount != trainer.inputSize {
                throw UserError("--model \(model): its normalization has \(normalization.featureCount) features, the model \(trainer.inputSize)")
            }
            examples.features = preprocessing.apply(toRaw: examples.features, sourceScale: source.inputScale)
        }
        let evaluation = trainer.evaluate(on: examples)
        let matrix = ConfusionMatrix(predictions: evaluation.predictions, labels: examples.labels, classCount: trainer.classCount)
        if json {
            print(try jsonLine([
                "accuracy": evaluation.accuracy, "loss": evaluation.loss, "examples": examples.count,
                "confusion_matrix": matrix.counts, "part": part,
            ]))
            return
        }
        print("\(source.name), \(part): \(examples.count) examples")
        print(String(format: "accuracy %.4f, loss %.4f", evaluation.accuracy, evaluation.loss))
        print("confusion matrix (rows: true class, columns: predicted):")
        print(matrix.description)
    }
}
