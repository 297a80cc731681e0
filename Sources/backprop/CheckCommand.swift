import ArgumentParser

/// `backprop check` (being built).
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "(being built)")
    func run() throws { throw ValidationError("backprop check is not built yet") }
}
