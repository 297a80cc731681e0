import Foundation
import Testing
import BackpropNN

import BackpropCommandLine
@testable import backprop

/// `backprop train --eager`: the flag is documented, and a run with it ends where the compiled run (the
/// default) does, up to 32-bit rounding.
@Suite(.serialized)
struct EagerTrainingFlagTests {
    @Test func helpNamesTheEagerFlag() {
        let help = BackpropCommand.helpMessage(for: TrainCommand.self)
        #expect(help.contains("--eager"), "\(help)")
        #expect(help.contains("compiled program"), "\(help)")
    }

    @Test func eagerAndCompiledRunsEndWithTheSameModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-eager-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var trained: [ClassifierTrainer<Float>] = []
        for extra in [[String](), ["--eager"]] {
            let checkpoint = folder.appendingPathComponent("m\(extra.count).safetensors").path
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
