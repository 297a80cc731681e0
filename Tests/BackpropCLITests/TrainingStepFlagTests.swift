import Foundation
import Testing
import BackpropNN

import BackpropCommandLine
@testable import backprop

/// `backprop train --compiled` (the default) and `--eager`: the flags are documented, exclusive, a run with
/// neither compiles, and a run with one ends where a run with the other does, up to 32-bit rounding.
@Suite(.serialized)
struct TrainingStepFlagTests {
    @Test func helpNamesBothFlagsAndTheyExcludeEachOther() {
        let help = BackpropCommand.helpMessage(for: TrainCommand.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("--compiled") && help.contains("--eager"), "\(help)")
        #expect(help.contains("compiled program"), "\(help)")
        #expect(throws: (any Error).self) { try BackpropCommand.parseAsRoot(["train", "--compiled", "--eager"]) }
        expectUserError(["train", "--model", "transformer", "--compiled"], mentioning: "--compiled applies to classifiers")
        #expect(help.contains("(the default)"), "\(help)")
    }

    @Test func aRunWithNeitherFlagCompilesItsSteps() throws {
        for (arguments, compiles) in [(["train"], true), (["train", "--compiled"], true), (["train", "--eager"], false),
                                      (["train", "--compiled", "--detect-anomaly"], false)] {
            let command = try #require(try BackpropCommand.parseAsRoot(arguments) as? TrainCommand)
            #expect(command.options.compilesSteps == compiles, "\(arguments)")
        }
    }

    @Test func eagerAndCompiledRunsEndWithTheSameModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-eager-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var trained: [ClassifierTrainer<Float>] = []
        for extra in [["--compiled"], ["--eager"]] {
            let checkpoint = folder.appendingPathComponent("m\(extra[0]).safetensors").path
            var command = try BackpropCommand.parseAsRoot(
                ["train", "--epochs", "1", "--layers", "16", "--dropout", "0.1", "--quiet",
                 "--save", checkpoint, "--plot", folder.appendingPathComponent("p.svg").path] + extra)
            try command.run()
            trained.append(try ClassifierTrainer<Float>(resumingFrom: Checkpoint.load(from: URL(fileURLWithPath: checkpoint))))
        }
        let (compiled, eager) = (trained[0], trained[1])
        var largest: Float = 0
        for (a, b) in zip(compiled.model.parameters, eager.model.parameters) {
            for (x, y) in zip(a.scalars, b.scalars) { largest = max(largest, abs(x - y) / max(abs(y), 1e-2)) }
        }
        #expect(largest <= 1e-4, "parameters differ by \(largest) relative")
        let (a, b) = (compiled.history[0].trainLoss, eager.history[0].trainLoss)
        #expect(abs(a - b) <= 1e-5 * abs(b), "train losses \(a) and \(b)")
    }
}
