import BackpropNN
import Foundation

/// Where `train` and `evaluate` read their examples: the bundled digits, a CSV file, or a folder with
/// MNIST's four IDX files.
enum DataSource {
    /// The digits shipped with the package (1797 8×8 images, pixels scaled by 1/16).
    case bundledDigits
    /// A numeric CSV file, the label in `labelColumn` (nil: the last column).
    case csv(URL, labelColumn: Int?)
    /// A folder holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-…` (optionally `.gz`).
    case mnist(URL)

    /// Interprets the `--data` and `--label-column` flags.
    init(path: String?, labelColumn: Int?) throws {
        guard let path else {
            guard labelColumn == nil else { throw UserError("--label-column applies to a CSV file given with --data") }
            self = .bundledDigits
            return
        }
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw UserError("--data: no such file or folder: \(path)")
        }
        if isDirectory.boolValue {
            guard labelColumn == nil else { throw UserError("--label-column applies to a CSV file, not an MNIST folder") }
            self = .mnist(url)
        } else {
            self = .csv(url, labelColumn: labelColumn)
        }
    }

    /// A short description for progress output.
    var name: String {
        switch self {
        case .bundledDigits: return "bundled digits (1797 8x8 images)"
        case .csv(let url, _): return url.path
        case .mnist(let url): return "MNIST in \(url.path)"
        }
    }

    /// Whether the source comes with its own test part (MNIST's t10k files).
    var hasSeparateTestPart: Bool {
        if case .mnist = self { return true }
        return false
    }

    /// All examples (for a CSV file or the digits), or MNIST's training part.
    func load() throws -> Dataset<Float> {
        do {
            switch self {
            case .bundledDigits: return try Dataset<Float>.digits()
            case .csv(let url, let labelColumn): return try Dataset<Float>(csvAt: url, labelColumn: labelColumn)
            case .mnist(let url): return try Dataset<Float>(mnistDirectory: url, part: .train)
            }
        } catch let error as DataError {
            throw UserError(error.description)
        }
    }

    /// MNIST's test part; nil for other sources.
    func loadTestPart() throws -> Dataset<Float>? {
        guard case .mnist(let url) = self else { return nil }
        do { return try Dataset<Float>(mnistDirectory: url, part: .test) } catch let error as DataError {
            throw UserError(error.description)
        }
    }

    /// Whether features should be standardised before training: yes for arbitrary CSV files, whose
    /// columns may have any scale; the digits and MNIST arrive already scaled to [0, 1].
    var needsStandardization: Bool {
        if case .csv = self { return true }
        return false
    }
}
