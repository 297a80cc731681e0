import BackpropFiles
import Foundation

/// Writes `bytes` to `url` atomically (see `AtomicFile`), reporting a failure as a `CheckpointError`.
func writeAtomically(_ bytes: [UInt8], to url: URL, failAfterByteCount: Int? = nil) throws {
    do {
        try AtomicFile.write(bytes, to: url, failAfterByteCount: failAfterByteCount)
    } catch let error as FileWriteError {
        throw CheckpointError(error.description)
    }
}
