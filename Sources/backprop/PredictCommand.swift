import ArgumentParser

/// `backprop predict` (being built).
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "(being built)")
    func run() throws { throw ValidationError("backprop predict is not built yet") }
}
