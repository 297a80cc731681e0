import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Writes files atomically: the bytes go to a temporary file in the target's directory, which is
/// flushed to disk (`fsync`) and then renamed over the target. A crash or error part-way leaves the
/// previous file untouched.
enum AtomicFile {
    /// A point at which a test can make the write fail.
    struct InjectedFailure: Error {}

    /// Writes `bytes` to `url` atomically.
    ///
    /// - Parameter failAfterByteCount: for tests: throw `InjectedFailure` once this many bytes of the
    ///   temporary file are written, simulating an interruption mid-write.
    static func write(_ bytes: [UInt8], to url: URL, failAfterByteCount: Int? = nil) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw CheckpointError("cannot create \(temporary.path): \(String(cString: strerror(errno)))")
        }
        var succeeded = false
        defer {
            if !succeeded { unlink(temporary.path) }
        }
        do {
            defer { close(descriptor) }
            var written = 0
            try bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                while written < buffer.count {
                    var chunk = Swift.min(1 << 20, buffer.count - written)
                    if let limit = failAfterByteCount {
                        if written >= limit { throw InjectedFailure() }
                        chunk = Swift.min(chunk, limit - written)
                    }
                    let result = Glibc_write(descriptor, base + written, chunk)
                    if result < 0 {
                        if errno == EINTR { continue }
                        throw CheckpointError("cannot write \(temporary.path): \(String(cString: strerror(errno)))")
                    }
                    written += result
                }
            }
            if let limit = failAfterByteCount, written >= limit { throw InjectedFailure() }
            guard fsync(descriptor) == 0 else {
                throw CheckpointError("cannot flush \(temporary.path): \(String(cString: strerror(errno)))")
            }
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw CheckpointError("cannot rename \(temporary.path) to \(url.path): \(String(cString: strerror(errno)))")
        }
        succeeded = true
        // Make the rename itself durable.
        let directoryDescriptor = open(directory.path, O_RDONLY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}

/// The C library's `write`, under a name that does not collide with Swift functions named `write`.
private func Glibc_write(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.write(descriptor, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(descriptor, buffer, count)
    #else
    return Glibc.write(descriptor, buffer, count)
    #endif
}
