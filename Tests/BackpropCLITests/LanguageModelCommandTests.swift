import Foundation
import Testing
import BackpropNN

import BackpropCommandLine
@testable import backprop

/// `train --model transformer|lstm|gru|rnn` and `generate`, in-process on tiny models: what they write, that a
/// run resumes, and that every mistake in a flag or a file is a user error.
@Suite(.serialized)
struct LanguageModelCommandTests {
    /// A fresh temporary folder, removed by the caller.
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-lm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The committed word-list sample.
    let words = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("corpora/words-sample.txt").path

    func run(_ arguments: [String]) throws {
        var command = try BackpropCommand.parseCheckingArguments(arguments)
        try command.run()
    }

    @Test func trainsResumesAndGenerates() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("text.txt")
        try Data(String(repeating: "to be or not to be, that is the question. ", count: 40).utf8).write(to: text)
        let checkpoint = folder.appendingPathComponent("lm.safetensors").path, plot = folder.appendingPathComponent("lm.svg").path
        let tiny = ["--context", "8", "--width", "8", "--layers", "1", "--batch-size", "4", "--steps-per-epoch", "3", "--quiet"]
        for kind in ["lstm", "transformer"] {
            try run(["train", "--data", text.path, "--model", kind, "--epochs", "1", "--heads", "2", "--save", checkpoint, "--plot", plot] + tiny)
            let trained = try LanguageModelTrainer<Float>(resumingFrom: try Checkpoint.load(from: URL(fileURLWithPath: checkpoint)))
            #expect(trained.configuration.model.kind.rawValue == kind && trained.completedEpochs == 1 && trained.optimizer.state.step == 3)
            #expect(trained.configuration.optimizer == .adamw)
            #expect(try String(contentsOfFile: plot, encoding: .utf8).hasPrefix("<svg"))
            try run(["train", "--data", text.path, "--resume", checkpoint, "--epochs", "2", "--plot", plot, "--quiet"])
            let resumed = try LanguageModelTrainer<Float>(resumingFrom: try Checkpoint.load(from: URL(fileURLWithPath: checkpoint)))
            #expect(resumed.completedEpochs == 2 && resumed.optimizer.state.step == 6)
            try run(["generate", "--model", checkpoint, "--prompt", "to be", "--length", "20", "--temperature", "0"])
        }
        // A word list, from the committed sample.
        try run(["train", "--data", words, "--word-list", "--model", "gru", "--epochs", "1", "--save", checkpoint, "--plot", plot] + tiny)
        let wordModel = try LanguageModelTrainer<Float>(resumingFrom: try Checkpoint.load(from: URL(fileURLWithPath: checkpoint)))
        #expect(wordModel.configuration.textShape == .wordList && wordModel.vocabulary.count == 27)
        try run(["generate", "--model", checkpoint, "--length", "30", "--seed", "3"])
    }

    @Test func mistakesAreUserErrors() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = ["--save", folder.appendingPathComponent("m.safetensors").path, "--plot", folder.appendingPathComponent("m.svg").path]
        let text = folder.appendingPathComponent("text.txt")
        try Data(String(repeating: "abcdefgh ", count: 50).utf8).write(to: text)
        let binary = folder.appendingPathComponent("binary.bin")
        try Data([0x61, 0x62, 0xC3, 0x28, 0x0A]).write(to: binary)
        let empty = folder.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        let short = folder.appendingPathComponent("short.txt")
        try Data("tiny".utf8).write(to: short)
        let lm = ["train", "--model", "lstm", "--epochs", "1", "--width", "8", "--quiet"] + out

        expectUserError(["train", "--model", "transformer"] + out, mentioning: "needs --data")
        expectUserError(lm + ["--data", binary.path], mentioning: "binary.bin: line 1: not UTF-8 text: byte 0xC3 at offset 2")
        expectUserError(lm + ["--data", empty.path], mentioning: "there is no text")
        expectUserError(lm + ["--data", folder.appendingPathComponent("none.txt").path], mentioning: "no such file")
        expectUserError(lm + ["--data", short.path], mentioning: "too few")
        expectUserError(lm + ["--data", text.path, "--context", "0"], mentioning: "--context must be a positive number")
        expectUserError(["train", "--model", "transformer", "--data", text.path, "--width", "10", "--heads", "4"] + out, mentioning: "heads (4) must divide the width (10)")
        expectUserError(lm + ["--data", text.path, "--layers", "128,64"], mentioning: "--layers: for a language model")
        expectUserError(lm + ["--data", text.path, "--activation", "tanh"], mentioning: "--activation applies to classifiers")
        expectUserError(lm + ["--data", text.path, "--steps-per-epoch", "0"], mentioning: "--steps-per-epoch")
        expectUserError(["train", "--word-list", "--epochs", "1"] + out, mentioning: "--word-list applies to a language model")
        expectUserError(["train", "--context", "8", "--epochs", "1"] + out, mentioning: "--context applies to a language model")
        expectUserError(["train", "--model", "transformer", "--data", text.path, "--width", "4096", "--layers", "1024"] + out, mentioning: "parameters, more than")

        // A trained model refuses text with characters it never saw, a resume as another kind, and other checkpoints.
        let checkpoint = out[1]
        try run(lm + ["--data", text.path, "--steps-per-epoch", "2", "--context", "8"])
        let other = folder.appendingPathComponent("other.txt")
        try Data(String(repeating: "abcdefgh! ", count: 50).utf8).write(to: other)
        expectUserError(["train", "--data", other.path, "--resume", checkpoint, "--epochs", "2", "--quiet", "--plot", out[3]], mentioning: "character '!' (U+0021) is not in the model's vocabulary")
        expectUserError(["train", "--model", "gru", "--data", text.path, "--resume", checkpoint, "--epochs", "2", "--quiet", "--plot", out[3]], mentioning: "--model cannot be given with --resume")
        expectUserError(["train", "--word-list", "--data", text.path, "--resume", checkpoint, "--epochs", "2", "--quiet", "--plot", out[3]], mentioning: "--word-list cannot be given with --resume")
        expectUserError(["train", "--model", "lstm", "--data", text.path, "--save", text.path, "--plot", out[3], "--quiet"], mentioning: "would destroy the input")
        expectUserError(["generate", "--model", checkpoint, "--prompt", "xyz"], mentioning: "--prompt: line 1: column 1: character 'x'")
        expectUserError(["generate", "--model", checkpoint, "--temperature", "-1"], mentioning: "--temperature")
        expectUserError(["generate", "--model", checkpoint, "--length", "-5"], mentioning: "--length")
        expectUserError(["generate", "--model", folder.appendingPathComponent("missing.safetensors").path], mentioning: "no such checkpoint")
        let classifier = folder.appendingPathComponent("mlp.safetensors").path
        try run(["train", "--epochs", "1", "--layers", "8", "--quiet", "--save", classifier, "--plot", out[3]])
        expectUserError(["generate", "--model", classifier], mentioning: "not a backprop language-model checkpoint")
        expectUserError(["evaluate", "--model", checkpoint], mentioning: "not a backprop training checkpoint")
    }
}
