import ArgumentParser

/// `backprop minimize` (being built).
struct MinimizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "minimize", abstract: "(being built)")
    func run() throws { throw ValidationError("backprop minimize is not built yet") }
}
