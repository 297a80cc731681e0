import ArgumentParser
import Foundation

/// The `backprop` command-line tool: trains networks, differentiates formulas and benchmarks the engine.
///
/// Exit status: 0 on success; 2 with a message on stderr for any user error (a bad flag, formula, file or
/// value), whatever raised it; 1 with a message on stderr when a run fails for another reason
/// (`RunFailure`: training diverged, anomaly detection found a NaN); a command may throw `ExitCode` itself
/// for other outcomes (for example 1 when `check` finds gradients that disagree).
@main
struct BackpropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Automatic differentiation and neural-network training, step by step.",
        version: "0.1.0",
        subcommands: [
            TrainCommand.self, EvaluateCommand.self, PredictCommand.self,
            GradCommand.self, CompareCommand.self, JacobianCommand.self, HessianCommand.self,
            CheckCommand.self, MinimizeCommand.self,
            BenchCommand.self, SoakCommand.self,
        ],
        defaultSubcommand: nil
    )

    /// Parses the arguments and runs the chosen command, mapping every user error to exit status 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch let error as UserError {
            reportUserError(error.message)
        } catch let failure as RunFailure {
            FileHandle.standardError.write(Data(("error: " + failure.message + "\n").utf8))
            Foundation.exit(1)
        } catch {
            // Help and version requests are "errors" that exit successfully: let the parser print them.
            if exitCode(for: error) == .success { exit(withError: error) }
            let message = fullMessage(for: error)
            reportUserError(message.isEmpty ? String(describing: error) : message)
        }
    }

    /// Prints `message` to stderr (prefixed "error: " unless it already says so) and exits with status 2.
    static func reportUserError(_ message: String) -> Never {
        let trimmed = message.hasSuffix("\n") ? String(message.dropLast()) : message
        let line = trimmed.lowercased().hasPrefix("error") ? trimmed : "error: " + trimmed
        FileHandle.standardError.write(Data((line + "\n").utf8))
        Foundation.exit(2)
    }
}

/// A problem with the user's input (a formula, a file, a flag value): the tool prints `message` on stderr
/// and exits with status 2.
struct UserError: Error, CustomStringConvertible {
    /// What went wrong and where, in words a user can act on.
    let message: String

    /// Creates an error with the message to show.
    init(_ message: String) { self.message = message }

    var description: String { message }
}

/// A run that started correctly but could not finish (training diverged, anomaly detection stopped it): the
/// tool prints `message` on stderr and exits with status 1.
struct RunFailure: Error, CustomStringConvertible {
    /// What happened and what to try.
    let message: String

    /// Creates a failure with the message to show.
    init(_ message: String) { self.message = message }

    var description: String { message }
}
