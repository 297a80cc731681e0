import Foundation

/// What a model's raw input rows go through before the model sees them, recorded in its checkpoint so that
/// whoever loads it (`backprop predict`, `backprop evaluate`, `ClassifierTrainer(resumingFrom:)`) gives the
/// model what it was trained on: raw rows in, training-time answers out.
///
/// Raw rows are multiplied by `scale` (the bundled digits' 0…16 pixels by 1/16, MNIST's bytes by 1/255), then
/// rescaled by `normalization` when there is one (the standardisation statistics of the training part).
/// The example shape and the class names ride along, for a reader that reshapes or names the outputs.
///
/// ```swift
/// var checkpoint = trainer.checkpoint()
/// InputPreprocessing<Float>(scale: 1.0 / 16, normalization: standardization, exampleShape: [1, 8, 8]).store(in: &checkpoint)
/// // later
/// let preprocessing = try InputPreprocessing<Float>.recorded(in: checkpoint).preprocessing
/// let features = preprocessing.apply(toRaw: rows)
/// ```
public struct InputPreprocessing<Scalar: TensorScalar>: Sendable, Equatable {
    /// The factor raw values are multiplied by first (1: none).
    public var scale: Double
    /// The per-feature rescaling applied next, fitted on the training part (nil: none).
    public var normalization: Normalization<Scalar>?
    /// The shape of one example (`[channels, height, width]` for images), when known.
    public var exampleShape: [Int]?
    /// The name of each class, in class order, when the classes have names other than their indices.
    public var classNames: [String]?

    /// Creates a description of the preprocessing.
    ///
    /// - Precondition: `scale` is positive and finite.
    public init(scale: Double = 1, normalization: Normalization<Scalar>? = nil, exampleShape: [Int]? = nil, classNames: [String]? = nil) {
        precondition(scale > 0 && scale.isFinite, "InputPreprocessing: scale must be positive and finite, got \(scale)")
        self.scale = scale
        self.normalization = normalization
        self.exampleShape = exampleShape
        self.classNames = classNames
    }

    /// Raw rows `[n, features]` as the model takes them: scaled, then normalised.
    ///
    /// - Parameters:
    ///   - features: the rows, `[n, features]`, as read from the data.
    ///   - sourceScale: the factor the rows were already multiplied by (a data set loaded with its own
    ///     scaling, as `Dataset.digits()` divides by 16); only the rest of `scale` is applied.
    /// - Precondition: the rows have the normalization's feature count, when there is one.
    public func apply(toRaw features: Tensor<Scalar>, sourceScale: Double = 1) -> Tensor<Scalar> {
        var result = features
        let factor = scale / sourceScale
        if factor != 1 {
            let multiplier = Scalar(factor)
            result.withUnsafeMutableScalars { values in for index in values.indices { values[index] *= multiplier } }
        }
        return normalization.map { $0.apply(result) } ?? result
    }

    /// The name of class `index`: its recorded name, or the index itself.
    public func className(_ index: Int) -> String {
        if let classNames, index >= 0, index < classNames.count { return classNames[index] }
        return "\(index)"
    }

    /// The metadata key of the scale (its presence marks a checkpoint that records its preprocessing).
    static var scaleKey: String { "input.scale" }

    /// Writes the preprocessing into `checkpoint`: metadata `input.scale`, `input.example_shape`,
    /// `input.class_names` (JSON), and the normalization's tensors (`normalization.mean`/`.std`), replacing
    /// what an earlier call wrote.
    public func store(in checkpoint: inout Checkpoint) {
        checkpoint.metadata[Self.scaleKey] = "\(scale)"
        checkpoint.metadata["input.example_shape"] = exampleShape.map { $0.map(String.init).joined(separator: "x") }
        checkpoint.metadata["input.class_names"] = classNames.flatMap { names in
            (try? JSONSerialization.data(withJSONObject: names)).map { String(decoding: $0, as: UTF8.self) }
        }
        if let normalization, (try? checkpoint.normalization(as: Scalar.self)) ?? nil == nil {
            try? checkpoint.setNormalization(normalization)
        }
    }

    /// The preprocessing a checkpoint records, or, for one written before checkpoints recorded it, what is
    /// assumed, with a sentence saying so (a warning to show): the bundled digits' 1/16 for a `backprop
    /// train` run on them, MNIST's 1/255 for one on an MNIST folder, no scaling otherwise; the stored
    /// normalization and label values either way.
    ///
    /// - Throws: `CheckpointError` when the recorded preprocessing is malformed.
    public static func recorded(in checkpoint: Checkpoint) throws -> (preprocessing: InputPreprocessing, assumption: String?) {
        let metadata = checkpoint.metadata
        let normalization = try checkpoint.normalization(as: Scalar.self)
        var classNames = metadata["label_values"].map { $0.split(separator: ",").map(String.init) }
        var exampleShape = metadata["example_shape"].map { $0.split(separator: "x").compactMap { Int($0) } }
        if let text = metadata[scaleKey] {
            guard let scale = Double(text), scale > 0, scale.isFinite else {
                throw CheckpointError("checkpoint's \(scaleKey) must be a positive number, got '\(text.prefix(40))'")
            }
            if let text = metadata["input.example_shape"] {
                let dimensions = text.split(separator: "x").compactMap { Int($0) }
                guard !dimensions.isEmpty, dimensions.allSatisfy({ $0 > 0 }), dimensions.count == text.split(separator: "x").count else {
                    throw CheckpointError("checkpoint's input.example_shape must be positive sizes joined by x, got '\(text.prefix(40))'")
                }
                exampleShape = dimensions
            }
            if let text = metadata["input.class_names"] {
                guard let names = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] else {
                    throw CheckpointError("checkpoint's input.class_names must be a JSON array of strings")
                }
                classNames = names
            }
            return (InputPreprocessing(scale: scale, normalization: normalization, exampleShape: exampleShape, classNames: classNames), nil)
        }
        let source = metadata["data_source"]
        let scale: Double, what: String
        var isDirectory: ObjCBool = false
        if source == "digits" {
            (scale, what) = (1.0 / 16, "raw pixel values 0 to 16 divided by 16, as the bundled digits it was trained on")
        } else if let source, FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue {
            (scale, what) = (1.0 / 255, "raw pixel values 0 to 255 divided by 255, as the MNIST folder it was trained on")
        } else {
            (scale, what) = (1, "raw values used as they are")
        }
        let rest = normalization == nil ? "" : ", then the standardisation it stores"
        return (
            InputPreprocessing(scale: scale, normalization: normalization, exampleShape: exampleShape, classNames: classNames),
            "the checkpoint records no input preprocessing (it was written before checkpoints did); assuming \(what)\(rest)"
        )
    }
}
