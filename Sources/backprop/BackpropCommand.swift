import ArgumentParser
import BackpropCommandLine
import Foundation

/// The `backprop` command-line tool: trains networks and differentiates formulas. (The benchmark is its own
/// tool, `backprop-bench`.)
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
            TrainCommand.self, EvaluateCommand.self, PredictCommand.self, GenerateCommand.self,
            GradCommand.self, CompareCommand.self, JacobianCommand.self, HessianCommand.self,
            CheckCommand.self, MinimizeCommand.self,
        ],
        defaultSubcommand: nil
    )

    /// Subcommands that moved to another tool, with where they went.
    static let movedSubcommands = [
        "bench": "the benchmark is its own tool, backprop-bench (swift build -c release --product backprop-bench)",
        "soak": "the soak check is part of the benchmark tool: backprop-bench soak",
    ]

    /// Parses the arguments and runs the chosen command, mapping every user error to exit status 2.
    static func main() { mainReportingErrors(movedSubcommands: movedSubcommands) }
}
