import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Writes files atomically: the bytes go to a temporary file beside the target, named
/// `.NAME.PID.RANDOM.tmp`, which is flushed to disk (`fsync`) and then renamed over the target. A crash,
/// a full disk or an error part-way leaves the previous file as it was.
///
/// What an interrupted write leaves behind is cleaned up twice over: SIGINT, SIGTERM and SIGHUP (where they
/// would end the process anyway) first remove the temporary files being written, and every write removes the
/// stale temporary files of its target that an earlier, killed process left (those whose process is gone and
/// that have not changed for a minute).
///
/// ```swift
/// try AtomicFile.write(Array(svg.utf8), to: URL(fileURLWithPath: "plot.svg"))
/// ```
public enum AtomicFile {
    /// A point at which a test can make the write fail.
    package struct InjectedFailure: Error {}

    /// Writes `bytes` to `url` atomically.
    ///
    /// - Throws: `FileWriteError` naming the file and the reason.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try write(bytes, to: url, failAfterByteCount: nil)
    }

    /// Writes `text` as UTF-8 to `url` atomically.
    ///
    /// - Throws: `FileWriteError` naming the file and the reason.
    public static func write(_ text: String, to url: URL) throws {
        try write(Array(text.utf8), to: url, failAfterByteCount: nil)
    }

    /// Lets `produce` write a file however it likes (another program, say) at a temporary path beside `url`,
    /// then flushes it and renames it over `url`; the temporary file is removed if `produce` throws or the
    /// file cannot be moved into place.
    ///
    /// - Throws: what `produce` throws, or `FileWriteError`.
    public static func write(to url: URL, producing produce: (URL) throws -> Void) throws {
        let temporary = try TemporaryFile(beside: url)
        defer { temporary.discard() }
        close(temporary.descriptor)
        try produce(temporary.url)
        let descriptor = open(temporary.url.path, O_RDONLY)
        guard descriptor >= 0 else { throw FileWriteError(path: url.path, reason: "the temporary file \(temporary.url.path) is gone") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw FileWriteError(path: url.path, reason: "cannot flush: \(lastError())") }
        try temporary.rename(to: url)
    }

    /// Writes `bytes` to `url` atomically; for tests, throws `InjectedFailure` once `failAfterByteCount` bytes
    /// of the temporary file are written, as an interruption mid-write would.
    package static func write(_ bytes: [UInt8], to url: URL, failAfterByteCount: Int?) throws {
        let temporary = try TemporaryFile(beside: url)
        defer { temporary.discard() }
        do {
            defer { close(temporary.descriptor) }
            var written = 0
            try bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                while written < buffer.count {
                    var chunk = Swift.min(1 << 20, buffer.count - written)
                    if let limit = failAfterByteCount {
                        if written >= limit { throw InjectedFailure() }
                        chunk = Swift.min(chunk, limit - written)
                    }
                    let result = systemWrite(temporary.descriptor, base + written, chunk)
                    if result < 0 {
                        if errno == EINTR { continue }
                        throw FileWriteError(path: url.path, reason: lastError())
                    }
                    written += result
                }
            }
            if let limit = failAfterByteCount, written >= limit { throw InjectedFailure() }
            guard fsync(temporary.descriptor) == 0 else { throw FileWriteError(path: url.path, reason: "cannot flush: \(lastError())") }
        }
        try temporary.rename(to: url)
    }

    /// Removes the temporary files this process is writing right now (for a process about to end abruptly,
    /// e.g. on a signal it handles itself). A write in progress then fails.
    public static func removeTemporaryFilesInProgress() {
        InProgress.shared.removeAll()
    }

    /// Removes the temporary files this process is writing right now in `folder` only (for tests, which run
    /// beside other tests' writes in the same process).
    package static func removeTemporaryFilesInProgress(in folder: URL) {
        var path = folder.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        InProgress.shared.removeAll(inFolder: path)
    }

    /// Removes the stale temporary files of `url` (`.NAME.PID.RANDOM.tmp` in its folder): those of processes
    /// that no longer run, or of this process but no write in progress, unchanged for `age` seconds or more.
    /// Returns how many were removed. Every write calls this for its target.
    @discardableResult
    public static func removeStaleTemporaryFiles(of url: URL, olderThan age: Double = 60) -> Int {
        let folder = url.deletingLastPathComponent()
        let prefix = "." + url.lastPathComponent + "."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return 0 }
        let me = getpid()
        var removed = 0
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            // PID and RANDOM, both decimal.
            let middle = name.dropFirst(prefix.count).dropLast(".tmp".count).split(separator: ".", omittingEmptySubsequences: false)
            guard middle.count == 2, let pid = Int32(middle[0]), UInt32(middle[1]) != nil, pid > 0 else { continue }
            let path = folder.appendingPathComponent(name).path
            if pid == me {
                if InProgress.shared.contains(path) { continue }
            } else if kill(pid, 0) == 0 || errno != ESRCH {
                continue  // that process still runs (or is not ours to ask about)
            }
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
            guard Date().timeIntervalSince1970 - Double(modificationSeconds(status)) >= age else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }
}

/// A file could not be written: which, and why.
public struct FileWriteError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file that was to be written.
    public var path: String
    /// Why it could not be (the system's words).
    public var reason: String

    /// Creates an error.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `cannot write PATH: REASON`.
    public var description: String { "cannot write \(path): \(reason)" }
}

/// A temporary file beside a target, registered as in progress (so a signal removes it) until discarded or
/// renamed into place.
private struct TemporaryFile {
    let url: URL
    let descriptor: Int32
    let slot: Int

    init(beside target: URL) throws {
        let folder = target.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileWriteError(path: target.path, reason: "the folder \(folder.path) does not exist")
        }
        AtomicFile.removeStaleTemporaryFiles(of: target)
        SignalCleanup.installOnce()
        url = folder.appendingPathComponent(".\(target.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        slot = InProgress.shared.add(url.path)
        descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let reason = lastError()
            InProgress.shared.remove(slot, path: url.path)
            throw FileWriteError(path: target.path, reason: "cannot create a temporary file in \(folder.path): \(reason)")
        }
    }

    /// Moves the file over `target` and makes the rename durable.
    func rename(to target: URL) throws {
        // For tests of interrupted saves: the temporary file complete, wait this many seconds before the rename.
        if let pause = ProcessInfo.processInfo.environment["BACKPROP_TEST_PAUSE_BEFORE_RENAME"].flatMap(Double.init), pause > 0 {
            Thread.sleep(forTimeInterval: pause)
        }
        guard systemRename(url.path, target.path) == 0 else {
            throw FileWriteError(path: target.path, reason: lastError())
        }
        InProgress.shared.remove(slot, path: url.path)
        let folder = open(target.deletingLastPathComponent().path, O_RDONLY)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }

    /// Removes the file if it is still there (not renamed) and forgets it.
    func discard() {
        if InProgress.shared.isActive(slot, path: url.path) {
            unlink(url.path)
            InProgress.shared.remove(slot, path: url.path)
        }
    }
}

/// The temporary files being written, in fixed slots a signal handler can read without allocating: each
/// slot a zero-terminated path and a flag saying whether it is in use. A write frees its slot only while the
/// slot still holds its path: once renamed, its slot may already be another write's.
final class InProgress: @unchecked Sendable {
    static let shared = InProgress()

    static let slotCount = 16
    static let pathCapacity = 4096
    private let paths: UnsafeMutablePointer<CChar>
    private let used: UnsafeMutablePointer<Int>
    private let lock = NSLock()

    private init() {
        paths = .allocate(capacity: Self.slotCount * Self.pathCapacity)
        paths.initialize(repeating: 0, count: Self.slotCount * Self.pathCapacity)
        used = .allocate(capacity: Self.slotCount)
        used.initialize(repeating: 0, count: Self.slotCount)
    }

    /// Records `path`; returns its slot, or -1 when every slot is taken or the path is too long (the file is
    /// then only swept by a later write).
    func add(_ path: String) -> Int {
        let bytes = Array(path.utf8CString)
        guard bytes.count <= Self.pathCapacity else { return -1 }
        lock.lock()
        defer { lock.unlock() }
        for slot in 0..<Self.slotCount where used[slot] == 0 {
            let target = paths + slot * Self.pathCapacity
            for (k, byte) in bytes.enumerated() { target[k] = byte }
            publish { self.used[slot] = 1 }
            return slot
        }
        return -1
    }

    /// Forgets the file of `slot` if the slot still holds `path`.
    func remove(_ slot: Int, path: String) {
        guard slot >= 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        if holds(slot, path) { used[slot] = 0 }
    }

    /// Whether `slot` still holds `path` (the file of a slotless write: whether it exists).
    func isActive(_ slot: Int, path: String) -> Bool {
        guard slot >= 0 else { return FileManager.default.fileExists(atPath: path) }
        lock.lock()
        defer { lock.unlock() }
        return holds(slot, path)
    }

    /// Whether `slot` is in use for `path`; the caller holds the lock.
    private func holds(_ slot: Int, _ path: String) -> Bool {
        used[slot] != 0 && String(cString: paths + slot * Self.pathCapacity) == path
    }

    /// Whether a write in progress uses `path`.
    func contains(_ path: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return (0..<Self.slotCount).contains { holds($0, path) }
    }

    /// Unlinks the files in use directly inside `folder` (a path without a trailing slash), comparing the
    /// paths as they were recorded.
    func removeAll(inFolder folder: String) {
        lock.lock()
        defer { lock.unlock() }
        let prefix = folder + "/"
        for slot in 0..<Self.slotCount where used[slot] != 0 {
            let path = String(cString: paths + slot * Self.pathCapacity)
            if path.hasPrefix(prefix) && !path.dropFirst(prefix.count).contains("/") { unlink(path) }
        }
    }

    /// Unlinks every file in use. Takes no lock and allocates nothing: safe in a signal handler.
    func removeAll() {
        for slot in 0..<Self.slotCount where used[slot] != 0 {
            unlink(paths + slot * Self.pathCapacity)
        }
    }
}

/// Runs `body` (a store that makes a slot visible) after the stores before it, as seen by a signal handler.
@inline(never)
private func publish(_ body: () -> Void) {
    body()
}

/// The handler of SIGINT, SIGTERM and SIGHUP while they would end the process: removes the temporary files in
/// progress, then lets the signal do what it would have done.
private enum SignalCleanup {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    nonisolated(unsafe) static var installed = false
    static let lock = NSLock()

    /// Installs the handler for each signal whose disposition is the default (an ignored or handled signal
    /// is left alone).
    static func installOnce() {
        lock.lock()
        defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        _ = InProgress.shared  // initialised before any handler can run
        for number in signals {
            let previous = signal(number, cleanUpAndResignal)
            if !isDefault(previous) { signal(number, previous) }
        }
    }

    #if canImport(Darwin)
    static func isDefault(_ handler: sig_t?) -> Bool { handler == nil }
    #else
    static func isDefault(_ handler: __sighandler_t?) -> Bool { handler == nil }
    #endif
}

/// The signal handler (C convention, no captures).
private let cleanUpAndResignal: @convention(c) (Int32) -> Void = { number in
    InProgress.shared.removeAll()
    signal(number, nil)
    raise(number)
}

/// When a file last changed, in seconds since 1970.
private func modificationSeconds(_ status: stat) -> Int {
    #if canImport(Darwin)
    return Int(status.st_mtimespec.tv_sec)
    #else
    return Int(status.st_mtim.tv_sec)
    #endif
}

/// The C library's error text for `errno`.
private func lastError() -> String { String(cString: strerror(errno)) }

/// The C library's `write`, under a name that does not collide with Swift functions named `write`.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.write(descriptor, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(descriptor, buffer, count)
    #else
    return Glibc.write(descriptor, buffer, count)
    #endif
}

/// The C library's `rename`.
private func systemRename(_ from: String, _ to: String) -> Int32 {
    #if canImport(Darwin)
    return Darwin.rename(from, to)
    #elseif canImport(Musl)
    return Musl.rename(from, to)
    #else
    return Glibc.rename(from, to)
    #endif
}
