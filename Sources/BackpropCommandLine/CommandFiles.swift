import BackpropNN
import Foundation

/// Loads a checkpoint, turning file problems into user errors.
public func loadCheckpoint(_ path: String) throws -> Checkpoint {
    guard FileManager.default.fileExists(atPath: path) else { throw UserError("no such checkpoint file: \(path)") }
    do { return try Checkpoint.load(from: URL(fileURLWithPath: path)) } catch let error as CheckpointError {
        throw UserError(error.description.contains(URL(fileURLWithPath: path).lastPathComponent) ? error.description : "\(path): \(error.description)")
    }
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

/// Writes a text file, turning failures into user errors that name the flag.
public func writeText(_ text: String, to path: String, flag: String) throws {
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw UserError("\(flag): cannot write \(path): \(error.localizedDescription)")
    }
}

/// One line of JSON with sorted keys.
public func jsonLine(_ object: [String: Any]) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}
