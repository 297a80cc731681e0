import Foundation

/// Which half of the MNIST (or Fashion-MNIST) data: the 60 000 training or the 10 000 test examples.
public enum MNISTPart: String, Sendable, CaseIterable {
    /// `train-images-idx3-ubyte` and `train-labels-idx1-ubyte`.
    case train
    /// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`.
    case test

    /// The file-name prefix of this part.
    var prefix: String { self == .train ? "train" : "t10k" }
}

extension Dataset {
    /// Loads MNIST-format images and labels from a directory holding `train-images-idx3-ubyte`,
    /// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each possibly
    /// gzip-compressed with a `.gz` suffix (the names with a dot before `idx`, as some mirrors use, are
    /// also found). Images are flattened to rows and scaled from 0…255 to 0…1.
    ///
    /// - Throws: `DataError` if a file is missing or malformed, or images and labels disagree.
    public init(mnistDirectory url: URL, part: MNISTPart) throws {
        let imagesURL = try Self.mnistFile(in: url, part: part, kind: "images", rank: 3)
        let labelsURL = try Self.mnistFile(in: url, part: part, kind: "labels", rank: 1)
        let images = try IDXArray.read(from: imagesURL)
        let labels = try IDXArray.read(from: labelsURL)
        guard images.shape.count >= 2 else {
            throw DataError(.corrupt, "expected images of shape [n, rows, columns], got \(images.shape)", file: imagesURL.lastPathComponent)
        }
        guard images.shape.dropFirst().allSatisfy({ $0 > 0 }) else {
            throw DataError(
                .corrupt, "images of shape \(images.shape.dropFirst().map(String.init).joined(separator: "×")) hold no pixels",
                file: imagesURL.lastPathComponent)
        }
        guard labels.shape.count == 1, labels.shape[0] == images.shape[0] else {
            throw DataError(
                .corrupt, "\(labels.shape) labels for \(images.shape[0]) images", file: labelsURL.lastPathComponent)
        }
        guard let classes = labels.integers(), classes.allSatisfy({ $0 >= 0 }) else {
            throw DataError(.invalidValue, "labels must be non-negative integers", file: labelsURL.lastPathComponent)
        }
        let rowWidth = images.shape.dropFirst().reduce(1, *)
        let pixels: Tensor<Scalar> = images.tensor(scale: 1.0 / 255)
        if images.elementType == .float32 || images.elementType == .float64, let bad = pixels.scalars.firstIndex(where: { !$0.isFinite }) {
            throw DataError(.invalidValue, "pixel \(bad) is \(images.value(at: bad)), not finite as \(Scalar.self)", file: imagesURL.lastPathComponent)
        }
        self.init(features: Tensor(shape: [images.shape[0], rowWidth], scalars: pixels.scalars), labels: classes)
    }

    private static func mnistFile(in directory: URL, part: MNISTPart, kind: String, rank: Int) throws -> URL {
        let stems = ["\(part.prefix)-\(kind)-idx\(rank)-ubyte", "\(part.prefix)-\(kind).idx\(rank)-ubyte"]
        for stem in stems {
            for name in [stem, stem + ".gz"] {
                let candidate = directory.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            }
        }
        throw DataError(
            .fileNotFound, "no \(stems[0]) or \(stems[0]).gz in \(directory.path)", file: directory.lastPathComponent)
    }
}
