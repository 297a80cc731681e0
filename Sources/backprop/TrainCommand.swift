import ArgumentParser

/// `backprop train` (being built).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "(being built)")
    func run() throws { throw ValidationError("backprop train is not built yet") }
}
