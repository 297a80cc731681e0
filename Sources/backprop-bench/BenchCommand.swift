import ArgumentParser
import BackpropCommandLine

/// `backprop-bench`: the project's benchmark, kept out of the user's `backprop` tool. It times the workloads
/// that `scripts/compare_with_peers.py` sets beside PyTorch, JAX, numpy and micrograd (`run`, the default),
/// and runs the long memory and thread-safety check (`soak`).
///
/// Exit status: 0 on success; 1 when a workload's own check or the soak check fails; 2 with a message on
/// stderr for a user error (an unknown workload, a missing or malformed data file, a bad flag).
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop-bench",
        abstract: "Benchmark the Backprop engine (build with -c release for meaningful numbers).",
        discussion: "`backprop-bench mlp-step chain100000` runs two workloads; `backprop-bench --json` runs all of them.",
        version: "0.1.0",
        subcommands: [RunCommand.self, SoakCommand.self],
        defaultSubcommand: RunCommand.self
    )

    /// Parses the arguments and runs the chosen command, mapping every user error to exit status 2.
    static func main() { mainReportingErrors() }
}
