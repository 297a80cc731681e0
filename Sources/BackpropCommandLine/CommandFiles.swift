import BackpropFiles
import BackpropNN
import Foundation

/// Loads a checkpoint, turning file problems into user errors.
public func loadCheckpoint(_ path: String) throws -> Checkpoint {
    guard FileManager.default.fileExists(atPath: path) else { throw UserError("no such checkpoint file: \(path)") }
    do { return try Checkpoint.load(from: URL(fileURLWithPath: path)) } catch let error as CheckpointError {
        throw UserError(error.description.contains(URL(fileURLWithPath: path).lastPathComponent) ? error.description : "\(path): \(error.description)")
    }
}

/// The memory reading the checkpoint at `path` takes, checked against `budget` with `otherBytes` besides: the
/// file, its tensors and the model they fill (three times the file), and the entries of its JSON header
/// (about 12 bytes per byte of header: names, shapes and offsets of every tensor).
public func checkCheckpointMemory(_ path: String, flag: String, budget: MemoryBudget, otherBytes: Int) throws {
    guard FileManager.default.fileExists(atPath: path) else { return }
    let size = try fileSize(URL(fileURLWithPath: path), within: budget, flag: flag)
    var headerCount = 0
    if let handle = FileHandle(forReadingAtPath: path) {
        let start = [UInt8](handle.readData(ofLength: 8))
        try? handle.close()
        if start.count == 8 { headerCount = Int(min(start.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }, UInt64(size))) }
    }
    let needed = saturating([otherBytes, saturating([size, 3], multiply: true), saturating([headerCount, 12], multiply: true)])
    try budget.check(needed, for: "\(flag) \(path): reading it (\(formatBytes(size)), of which a header of \(formatBytes(headerCount)))")
}

/// Fails early, before any work, when `path` cannot be written: its folder is missing or read-only.
public func checkWritable(_ path: String, flag: String) throws {
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
public func saveCheckpoint(_ checkpoint: Checkpoint, to url: URL) throws {
    do { try checkpoint.save(to: url) } catch let error as CheckpointError {
        throw UserError("cannot write the checkpoint \(url.path): \(error.description)")
    }
}

/// Writes a text file atomically (a temporary file renamed over it: an interruption or a full disk leaves
/// the previous file whole), turning failures into user errors that name the flag.
public func writeText(_ text: String, to path: String, flag: String) throws {
    do { try AtomicFile.write(text, to: URL(fileURLWithPath: path)) } catch let error as FileWriteError {
        throw UserError("\(flag): \(error.description)")
    }
}

/// The normalization stored in a checkpoint, its problems as user errors naming the flag and file.
public func checkpointNormalization(_ checkpoint: Checkpoint, path: String, flag: String) throws -> Normalization<Float>? {
    do { return try checkpoint.normalization(as: Float.self) } catch let error as CheckpointError {
        throw UserError("\(flag) \(path): \(error.description)")
    }
}

/// The held-out fraction a `backprop train` checkpoint records (nil when it records none), checked to lie
/// strictly between 0 and 1.
public func recordedTestFraction(_ checkpoint: Checkpoint, path: String, flag: String) throws -> Double? {
    guard let text = checkpoint.metadata["test_fraction"] else { return nil }
    guard let fraction = Double(text), fraction > 0, fraction < 1 else {
        throw UserError("\(flag) \(path): the checkpoint's metadata test_fraction must lie strictly between 0 and 1, got '\(text.prefix(40))'")
    }
    return fraction
}

/// One line of JSON with sorted keys. Numbers that JSON cannot hold (NaN, ±infinity) are written as the
/// strings "nan", "inf" and "-inf".
public func jsonLine(_ object: [String: Any]) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: jsonSafe(object), options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

/// `value` with every non-finite number replaced by its name.
func jsonSafe(_ value: Any) -> Any {
    switch value {
    case let number as Double where !number.isFinite: return number.isNaN ? "nan" : number > 0 ? "inf" : "-inf"
    case let number as Float where !number.isFinite: return number.isNaN ? "nan" : number > 0 ? "inf" : "-inf"
    case let object as [String: Any]: return object.mapValues(jsonSafe)
    case let array as [Any]: return array.map(jsonSafe)
    default: return value
    }
}
