import ArgumentParser
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
    public static func mainReportingErrors(
        arguments: [String]? = nil, prefix: String = "", movedSubcommands: [String: String] = [:]
    ) -> Never {
        do {
            var command = try parseCheckingArguments(arguments, movedSubcommands: movedSubcommands)
            try command.run()
            Foundation.exit(0)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch let error as UserError {
            reportUserError(error.message, prefix: prefix)
        } catch let failure as RunFailure {
            FileHandle.standardError.write(Data((prefix + "error: " + failure.message + "\n").utf8))
            Foundation.exit(1)
        } catch {
            // Help and version requests are "errors" that exit successfully: let the parser print them.
            if exitCode(for: error) == .success { exit(withError: error) }
            let message = fullMessage(for: error)
            reportUserError(message.isEmpty ? String(describing: error) : message, prefix: prefix)
        }
    }

    /// Prints `message` to stderr (prefixed "error: " unless it already says so) and exits with status 2.
    public static func reportUserError(_ message: String, prefix: String = "") -> Never {
        let trimmed = message.hasSuffix("\n") ? String(message.dropLast()) : message
        let line = trimmed.lowercased().hasPrefix("error") ? trimmed : "error: " + trimmed
        FileHandle.standardError.write(Data((prefix + line + "\n").utf8))
        Foundation.exit(2)
    }
}
