import ArgumentParser
import BackpropCommandLine

/// `backprop train`: trains a classifier in this process; its flags and run are `TrainOptions`, shared with
/// `backprop-mpi train`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: TrainOptions.abstract, discussion: TrainOptions.discussion)

    /// The flags of a training run.
    @OptionGroup var options: TrainOptions

    func run() throws { try options.run() }
}
