import ArgumentParser

/// `backprop evaluate` (being built).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "(being built)")
    func run() throws { throw ValidationError("backprop evaluate is not built yet") }
}
