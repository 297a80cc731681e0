import ArgumentParser

/// `backprop grad` (being built).
struct GradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grad", abstract: "(being built)")
    func run() throws { throw ValidationError("backprop grad is not built yet") }
}
