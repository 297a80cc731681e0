import ArgumentParser
import BackpropNN
import Foundation
import BackpropCommandLine

/// `backprop predict`: classes and probabilities for new examples from a trained checkpoint.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict the class of each example in a file with a trained checkpoint.",
        discussion: """
            The input is a CSV file of features only (one example per line, as many numbers as the model \
            has inputs, no label) or a NumPy .npy array of shape [n, inputs]. Prints one line per example: \
            its index, the predicted class and that class's probability.
            """)

    @Option(help: "The checkpoint written by `backprop train`, or a PyTorch MLP state dict in safetensors.")
    var model: String

    @Option(help: "For a PyTorch state dict: the activation between its Linear layers (relu, tanh, sigmoid).")
    var activation: String = "relu"

    @Option(help: "A CSV file of features (no labels) or a .npy array [n, inputs].")
    var input: String

    @Flag(help: "Print one JSON object: predictions and probabilities.")
    var json = false

    /// `--memory-limit`.
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        let budget = try memory.budget()
        var inputBytes = 0
        if FileManager.default.fileExists(atPath: input) {
            // The file, its values as floats, rescaled, and the probabilities: about nine times the file.
            let size = try fileSize(URL(fileURLWithPath: input), within: budget, flag: "--input")
            inputBytes = saturating([size, 9], multiply: true)
            try budget.check(inputBytes, for: "--input \(input): reading it", advice: "split the file")
        }
        let (trainer, _) = try loadClassifier(model, activation: activation, budget: budget, otherBytes: inputBytes)
        var features = try readFeatures()
        guard features.rank == 2, features.shape[0] > 0 else {
            throw UserError("--input \(input): expected a matrix of examples [n, \(trainer.inputSize)], got shape \(features.shape)")
        }
        guard features.shape[1] == trainer.inputSize else {
            let hint = features.shape[1] == trainer.inputSize + 1 ? " (is the label column still in the file?)" : ""
            throw UserError("--input \(input): \(features.shape[1]) values per example, the model expects \(trainer.inputSize)\(hint)")
        }
        try checkFinite(features, what: "--input \(input)")
        // Raw rows: the checkpoint's preprocessing (its scaling, then its standardisation) is applied here.
        if let preprocessing = trainer.inputPreprocessing {
            if let normalization = preprocessing.normalization, normalization.featureCount != trainer.inputSize {
                throw UserError("--model \(model): its normalization has \(normalization.featureCount) features, the model \(trainer.inputSize)")
            }
            features = preprocessing.apply(toRaw: features)
            try checkFinite(features, what: "--input \(input), rescaled by the checkpoint's preprocessing,")
        }
        let probabilities = trainer.logits(features).softmax(alongAxis: 1)
        if let row = firstNonFiniteRow(probabilities) {
            throw UserError("--model \(model): the model's output for example \(row) of --input \(input) is not finite; no predictions are printed")
        }
        let classes = predictedClasses(probabilities)
        let values = probabilities.scalars
        func name(_ index: Int) -> String { trainer.inputPreprocessing?.className(index) ?? "\(index)" }
        let width = trainer.classCount
        if json {
            print(try jsonLine([
                "predictions": classes.map(name),
                "probabilities": classes.indices.map { row in (0..<width).map { Double(values[row * width + $0]) } },
            ]))
            return
        }
        print("example  class  probability")
        for (row, predicted) in classes.enumerated() {
            let probability = Double(values[row * width + predicted])
            print(String(format: "%7d  ", row) + name(predicted).padding(toLength: 5, withPad: " ", startingAt: 0)
                + String(format: "  %.4f", probability))
        }
    }

    /// Throws a user error naming the first example and value of `features` that is not finite (NaN or
    /// infinite as a 32-bit float: a .npy file may hold them, and 1e39 in a float64 array is one).
    func checkFinite(_ features: Tensor<Float>, what: String) throws {
        guard features.rank == 2, let row = firstNonFiniteRow(features) else { return }
        let width = features.shape[1]
        let column = (0..<width).first { !features.scalars[row * width + $0].isFinite } ?? 0
        throw UserError("\(what): example \(row), value \(column) is \(features.scalars[row * width + column]) (as a 32-bit float); the model needs finite inputs")
    }

    /// The first row of a matrix holding a value that is not finite.
    func firstNonFiniteRow(_ matrix: Tensor<Float>) -> Int? {
        let width = Swift.max(matrix.shape.last ?? 1, 1)
        return matrix.scalars.firstIndex { !$0.isFinite }.map { $0 / width }
    }

    /// The input file as a feature matrix.
    func readFeatures() throws -> Tensor<Float> {
        let url = URL(fileURLWithPath: input)
        do {
            if input.lowercased().hasSuffix(".npy") {
                let array = try NPYArray.read(from: url)
                return array.tensor(as: Float.self)
            }
            return try Tensor<Float>(csvAt: url)
        } catch let error as DataError {
            throw UserError("--input: \(error.description)")
        }
    }
}
