import ArgumentParser

/// The `backprop` command-line tool: trains networks, differentiates formulas and benchmarks the engine.
@main
struct BackpropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Automatic differentiation and neural-network training, step by step.",
        version: "0.1.0",
        subcommands: [
            TrainCommand.self, EvaluateCommand.self, PredictCommand.self,
            GradCommand.self, CheckCommand.self, MinimizeCommand.self,
            BenchCommand.self,
        ],
        defaultSubcommand: nil
    )
}
