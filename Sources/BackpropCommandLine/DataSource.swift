import BackpropNN
import Foundation

/// Where `train` and `evaluate` read their examples: the bundled digits, a CSV file, or a folder with
/// MNIST's four IDX files.
public enum DataSource {
    /// The digits shipped with the package (1797 8×8 images, pixels scaled by 1/16).
    case bundledDigits
    /// A numeric CSV file, the label in `labelColumn` (nil: the last column).
    case csv(URL, labelColumn: Int?)
    /// A folder holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-…` (optionally `.gz`).
    case mnist(URL)

    /// Interprets the `--data` and `--label-column` flags.
    public init(path: String?, labelColumn: Int?) throws {
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
    public var name: String {
        switch self {
        case .bundledDigits: return "bundled digits (1797 8x8 images)"
        case .csv(let url, _): return url.path
        case .mnist(let url): return "MNIST in \(url.path)"
        }
    }

    /// A stable name for the source, recorded in checkpoints: `digits`, or the file's absolute path.
    public var identity: String {
        switch self {
        case .bundledDigits: return "digits"
        case .csv(let url, let labelColumn): return url.standardizedFileURL.path + (labelColumn.map { "#label=\($0)" } ?? "")
        case .mnist(let url): return url.standardizedFileURL.path
        }
    }

    /// The shape of one example as an image (channels, height, width), when the source knows it: 1×8×8 for
    /// the digits, and for MNIST the IDX file's own dimensions (one channel); nil for a CSV file.
    public func imageShape() throws -> [Int]? {
        switch self {
        case .bundledDigits: return [1, 8, 8]
        case .csv: return nil
        case .mnist(let url):
            for name in ["train-images-idx3-ubyte", "train-images.idx3-ubyte", "train-images-idx3-ubyte.gz", "train-images.idx3-ubyte.gz"] {
                let file = url.appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: file.path) else { continue }
                do {
                    let images = try IDXArray.read(from: file)
                    return images.shape.count == 3 ? [1] + Array(images.shape.dropFirst()) : nil
                } catch let error as DataError {
                    throw UserError(error.description)
                }
            }
            return nil
        }
    }

    /// The files the source reads (nothing for the bundled digits; for MNIST, the IDX files present).
    public var inputFiles: [String] {
        switch self {
        case .bundledDigits: return []
        case .csv(let url, _): return [url.path]
        case .mnist(let url):
            let stems = ["train-images", "train-labels", "t10k-images", "t10k-labels"].flatMap { part in
                let rank = part.hasSuffix("images") ? 3 : 1
                return ["\(part)-idx\(rank)-ubyte", "\(part).idx\(rank)-ubyte"]
            }
            return stems.flatMap { [$0, $0 + ".gz"] }.map { url.appendingPathComponent($0).path }
                .filter { FileManager.default.fileExists(atPath: $0) }
        }
    }

    /// The memory reading the source will take, estimated from the files without reading the data itself
    /// (file sizes, a CSV file's separators, the shape each IDX header declares: a gzip bomb is measured before
    /// it is decompressed), checked against `budget`.
    ///
    /// - Throws: `UserError` naming the file when the estimate exceeds the budget or a file cannot be read.
    public func estimatedMemory(within budget: MemoryBudget) throws -> Int {
        switch self {
        case .bundledDigits:
            return 1797 * 65 * MemoryEstimate.csvValue
        case .csv(let url, _):
            let size = try fileSize(url, within: budget)
            let values = try countSeparators(url) + 1
            let bytes = saturating([size, saturating([values, MemoryEstimate.csvValue], multiply: true)])
            try budget.check(bytes, for: "--data \(url.path): reading its \(values) values", advice: "use a smaller file")
            return bytes
        case .mnist:
            var total = 0
            for path in inputFiles {
                let url = URL(fileURLWithPath: path)
                let size = try fileSize(url, within: budget)
                // The header is at the start: a megabyte of the file holds it, compressed or not.
                guard let handle = FileHandle(forReadingAtPath: url.path) else { throw UserError("--data: cannot read \(url.path)") }
                let start = handle.readData(ofLength: 1 << 20)
                try? handle.close()
                let header: (elementType: IDXArray.ElementType, shape: [Int])
                do { header = try IDXArray.declaredShape(of: [UInt8](start)) } catch let error as DataError {
                    throw UserError("--data \(url.path): \(error.message)")
                }
                let values = saturating(header.shape, multiply: true)
                let each = header.elementType.byteCount + MemoryEstimate.idxValue
                total = saturating([total, size, saturating([values, each], multiply: true)])
                try budget.check(
                    total, for: "--data \(url.deletingLastPathComponent().path): \(url.lastPathComponent) declares \(header.shape.map(String.init).joined(separator: "×")) values, and reading them",
                    advice: "use a smaller data set")
            }
            return total
        }
    }

    /// The features per example the files declare, read without parsing the data: a CSV file's first line's
    /// fields less the label, the product of an IDX image file's dimensions; nil when unknown.
    public func declaredFeatureCount() -> Int? {
        switch self {
        case .bundledDigits: return 64
        case .csv(let url, _):
            guard let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
            defer { try? handle.close() }
            var commas = 0
            while true {
                let chunk = handle.readData(ofLength: 1 << 20)
                if chunk.isEmpty { break }
                var ended = false
                chunk.withUnsafeBytes { bytes in
                    for byte in bytes {
                        if byte == UInt8(ascii: "\n") { ended = true; break }
                        if byte == UInt8(ascii: ",") { commas += 1 }
                    }
                }
                if ended { break }
            }
            return commas
        case .mnist:
            guard let path = inputFiles.first(where: { $0.contains("train-images") }),
                let handle = FileHandle(forReadingAtPath: path) else { return nil }
            let start = handle.readData(ofLength: 1 << 20)
            try? handle.close()
            guard let header = try? IDXArray.declaredShape(of: [UInt8](start)), header.shape.count >= 2 else { return nil }
            return saturating(Array(header.shape.dropFirst()), multiply: true)
        }
    }

    /// The factor the loader multiplies the file's values by: 1/16 for the bundled digits (pixels 0…16),
    /// 1/255 for MNIST (bytes), 1 for a CSV file. Checkpoints record it (`InputPreprocessing.scale`), so
    /// raw rows given to `predict` or `evaluate` are scaled as training's were.
    public var inputScale: Double {
        switch self {
        case .bundledDigits: return Dataset<Float>.digitsScale
        case .csv: return 1
        case .mnist: return 1.0 / 255
        }
    }

    /// Whether the source comes with its own test part (MNIST's t10k files).
    public var hasSeparateTestPart: Bool {
        if case .mnist = self { return true }
        return false
    }

    /// All examples (for a CSV file or the digits), or MNIST's training part.
    public func load() throws -> Dataset<Float> {
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
    public func loadTestPart() throws -> Dataset<Float>? {
        guard case .mnist(let url) = self else { return nil }
        do { return try Dataset<Float>(mnistDirectory: url, part: .test) } catch let error as DataError {
            throw UserError(error.description)
        }
    }

    /// Whether features are standardised (per-feature mean 0, standard deviation 1, fitted on the
    /// training part and saved in the checkpoint) before training: yes for CSV files, whose columns may
    /// have any scale, and for the digits, where it lifts held-out accuracy by about half a point over
    /// plain 1/16 scaling (the TrainingCommand article); MNIST keeps its 1/255 scaling, as is customary.
    public var needsStandardization: Bool {
        if case .mnist = self { return false }
        return true
    }
}

/// The size of a file, checked against the budget before anything reads it (a user error naming `flag` when it
/// cannot be read or is larger than the budget).
public func fileSize(_ url: URL, within budget: MemoryBudget, flag: String = "--data") throws -> Int {
    let attributes: [FileAttributeKey: Any]
    do { attributes = try FileManager.default.attributesOfItem(atPath: url.path) } catch {
        throw UserError("\(flag): cannot read \(url.path): \(error.localizedDescription)")
    }
    let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    try budget.check(size, for: "\(flag) \(url.path): the file itself")
    return size
}

/// The commas and line ends of a file, counted a megabyte at a time: a bound on its CSV values.
func countSeparators(_ url: URL) throws -> Int {
    guard let handle = FileHandle(forReadingAtPath: url.path) else { throw UserError("--data: cannot read \(url.path)") }
    defer { try? handle.close() }
    var count = 0
    while true {
        let chunk = handle.readData(ofLength: 1 << 20)
        if chunk.isEmpty { break }
        chunk.withUnsafeBytes { bytes in
            for byte in bytes where byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\n") { count += 1 }
        }
    }
    return count
}
