import BackpropFiles
import Foundation

/// Ends this process with a message of its own, instead of hanging, when a collective does not complete
/// within `timeout` seconds (a peer died or hangs), or when the launcher stops the job with SIGTERM (what
/// `mpirun` sends the surviving ranks after one died). The message names the last complete checkpoint, which
/// the training loop reports with `checkpointCompleted(_:)`.
///
/// A thread of its own polls once every quarter of a second (at most every second); the collectives run on
/// the caller's thread, so the watchdog never calls MPI itself.
public final class CollectiveWatchdog: @unchecked Sendable {
    /// This process's rank, for the message.
    public let rank: Int
    /// Seconds a collective may take before the process gives up.
    public let timeout: Double
    /// What starts every message, e.g. "backprop-mpi".
    public let program: String

    private let lock = NSLock()
    private var started: ContinuousClock.Instant?
    private var lastCheckpoint: String?
    private var signalSource: DispatchSourceSignal?

    /// Starts watching: the polling thread and the SIGTERM handler.
    ///
    /// - Precondition: `timeout` is positive.
    public init(rank: Int, timeout: Double, program: String) {
        precondition(timeout > 0, "CollectiveWatchdog: timeout must be positive")
        self.rank = rank
        self.timeout = timeout
        self.program = program
        let thread = Thread { [weak self] in
            while let watchdog = self { watchdog.poll(); Thread.sleep(forTimeInterval: min(1, timeout / 4)) }
        }
        thread.start()
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler { [weak self] in
            self?.giveUp("stopped by the launcher (SIGTERM), most likely because another rank died or failed")
        }
        source.resume()
        signalSource = source
    }

    /// Records that `path` now holds a complete checkpoint (named in the message if the run stops).
    public func checkpointCompleted(_ path: String) {
        lock.lock()
        lastCheckpoint = path
        lock.unlock()
    }

    /// Runs one collective under watch.
    public func watching<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        started = .now
        lock.unlock()
        defer {
            lock.lock()
            started = nil
            lock.unlock()
        }
        return try body()
    }

    /// The end of the message: where the last complete checkpoint is.
    public var checkpointNote: String {
        lock.lock()
        defer { lock.unlock() }
        return lastCheckpoint.map { "the last complete checkpoint is \($0)" } ?? "no checkpoint was completed in this run"
    }

    private func poll() {
        lock.lock()
        let overdue = started.map { ContinuousClock.now - $0 > .milliseconds(Int64(timeout * 1000)) } ?? false
        lock.unlock()
        if overdue { giveUp("no reply from the other ranks in \(formatted(timeout)) s (a rank died?)") }
    }

    private func giveUp(_ reason: String) -> Never {
        // A checkpoint being saved stays as it was: its temporary file goes with this process.
        AtomicFile.removeTemporaryFilesInProgress()
        let message = Array("\(program): rank \(rank): \(reason); \(checkpointNote)\n".utf8)
        message.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        _exit(1)
    }

    private func formatted(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
