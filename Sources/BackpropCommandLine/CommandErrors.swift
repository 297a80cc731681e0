import ArgumentParser
import Backprop
import Foundation

/// A problem with the user's input (a formula, a file, a flag value): the tool prints `message` on stderr
/// and exits with status 2.
public struct UserError: Error, CustomStringConvertible {
    /// What went wrong and where, in words a user can act on.
    public let message: String

    /// Creates an error with the message to show.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// A run that started correctly but could not finish (training diverged, anomaly detection stopped it, a
/// peer process died): the tool prints `message` on stderr and exits with status 1.
public struct RunFailure: Error, CustomStringConvertible {
    /// What happened and what to try.
    public let message: String

    /// Creates a failure with the message to show.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

extension ParsableCommand {
    /// Parses `arguments` (nil: the process's) as this root command, runs the chosen command and exits:
    /// 0 on success; 2 with a message on stderr for any user error (a bad flag, formula, file or value),
    /// whatever raised it; 1 with a message on stderr for a `RunFailure`; a command's own `ExitCode` as is.
    /// `prefix` starts every message (e.g. a rank's name in a multi-process run). An unknown subcommand
    /// and an option given twice are user errors (`parseCheckingArguments`); `movedSubcommands` says where
    /// retired subcommands went.
    ///
    /// Before parsing, it keeps freed tensor memory for reuse up to `BackpropSettings.current.retainedMemory`
    /// (`BACKPROP_RETAINED_MEMORY`, 512 MB unless set): training steps free and reallocate the same large
    /// arrays, and without this they pay a page fault per 4 kB every step (see `TensorMemory`).
    public static func mainReportingErrors(
        arguments: [String]? = nil, prefix: String = "", movedSubcommands: [String: String] = [:]
    ) -> Never {
        TensorMemory.retainFreedMemory(upTo: BackpropSettings.current.retainedMemory)
        do {
            var command = try parseCheckingArguments(arguments, movedSubcommands: movedSubcommands)
            try command.run()
            exitAfterFlushingStandardOutput(0, prefix: prefix)
        } catch let code as ExitCode {
            exitAfterFlushingStandardOutput(code.rawValue, prefix: prefix)
        } catch let error as UserError {
            reportUserError(error.message, prefix: prefix)
        } catch let failure as RunFailure {
            writeStandardError(prefix + "error: " + failure.message + "\n")
            Foundation.exit(1)
        } catch {
            // Help and version requests are "errors" that exit successfully: print them as the parser would,
            // then flush, so that help written to a full disk is a failure too.
            if exitCode(for: error) == .success {
                let text = fullMessage(for: error)
                if !text.isEmpty { print(text) }
                exitAfterFlushingStandardOutput(0, prefix: prefix)
            }
            let message = fullMessage(for: error)
            reportUserError(message.isEmpty ? String(describing: error) : message, prefix: prefix)
        }
    }

    /// Prints `message` to stderr (prefixed "error: " unless it already says so) and exits with status 2.
    public static func reportUserError(_ message: String, prefix: String = "") -> Never {
        let trimmed = message.hasSuffix("\n") ? String(message.dropLast()) : message
        let line = trimmed.lowercased().hasPrefix("error") ? trimmed : "error: " + trimmed
        writeStandardError(prefix + line + "\n")
        Foundation.exit(2)
    }

    /// Flushes standard output and exits with `status`, or with 1 and a message when something printed could
    /// not be written (`> /dev/full`, a disk that filled up): output that was lost is a failed run, not a success.
    static func exitAfterFlushingStandardOutput(_ status: Int32, prefix: String) -> Never {
        if let stream = standardOutputStream() {
            errno = 0
            let flushed = fflush(stream) == 0
            let reason = errno != 0 ? String(cString: strerror(errno)) : "an earlier write failed"
            if !flushed || ferror(stream) != 0 {
                writeStandardError(prefix + "error: cannot write to standard output: \(reason)\n")
                Foundation.exit(status == 0 ? 1 : status)
            }
        }
        Foundation.exit(status)
    }
}

/// The C library's standard output stream (what `print` writes to), looked up by its symbol: Swift 6 refuses
/// a direct use of the C global `stdout`.
func standardOutputStream() -> UnsafeMutablePointer<FILE>? {
    #if canImport(Darwin)
    let (everywhere, name) = (UnsafeMutableRawPointer(bitPattern: -2), "__stdoutp")  // RTLD_DEFAULT
    #else
    let (everywhere, name) = (UnsafeMutableRawPointer(bitPattern: 0), "stdout")  // RTLD_DEFAULT
    #endif
    guard let symbol = dlsym(everywhere, name) else { return nil }
    return symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee
}

/// Writes `text` to standard error with the system call itself (FileHandle traps when the write fails).
public func writeStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}
