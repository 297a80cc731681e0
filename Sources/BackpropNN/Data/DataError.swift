import Foundation

/// An error reading or interpreting a data file (CSV, IDX, gzip, NPY), saying what went wrong and where.
///
/// The `description` reads like a compiler diagnostic: `digits.csv: line 17: column 3: 'abc' is not a number`.
public struct DataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The category of a data error.
    public enum Kind: Sendable, Equatable {
        /// The file does not exist.
        case fileNotFound
        /// The file exists but could not be read.
        case unreadable
        /// The file has no data.
        case empty
        /// A field is not a valid value (for example, not a number).
        case invalidValue
        /// A row has a different number of columns than the first row.
        case raggedRow
        /// The label column does not exist.
        case labelColumnOutOfRange
        /// The file's structure is not what the format requires (bad magic number, truncated, sizes that
        /// do not add up, bad checksum).
        case corrupt
        /// The file is valid but uses a feature this reader does not support.
        case unsupported
    }

    /// The category of the error.
    public var kind: Kind
    /// The file's name (last path component), if the data came from a file.
    public var file: String?
    /// The 1-based line number, for text formats.
    public var line: Int?
    /// The 1-based column number, for tabular formats.
    public var column: Int?
    /// What went wrong, in words.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file: line N: column C: message`, omitting the parts that are unknown.
    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let line { parts.append("line \(line)") }
        if let column { parts.append("column \(column)") }
        parts.append(message)
        return parts.joined(separator: ": ")
    }

    /// The same error attributed to the file at `url`, unless it already names one.
    func located(in url: URL) -> DataError {
        var copy = self
        if copy.file == nil { copy.file = url.lastPathComponent }
        return copy
    }
}

/// Reads a whole file, turning failures into `DataError`s that name the file.
func readFileBytes(at url: URL) throws -> [UInt8] {
    let name = url.lastPathComponent
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
        throw DataError(.fileNotFound, "no such file (\(url.path))", file: name)
    }
    guard !isDirectory.boolValue else {
        throw DataError(.unreadable, "is a directory, expected a file (\(url.path))", file: name)
    }
    do {
        return [UInt8](try Data(contentsOf: url))
    } catch {
        throw DataError(.unreadable, "cannot read file: \(error.localizedDescription)", file: name)
    }
}
