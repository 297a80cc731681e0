import ArgumentParser

/// `backprop bench` (being built).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(being built)")
    func run() throws { throw ValidationError("backprop bench is not built yet") }
}
