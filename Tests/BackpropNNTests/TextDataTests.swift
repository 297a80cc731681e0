import Foundation
import Testing
@testable import BackpropNN

/// Text data for character language models: vocabularies, reading files and folders, bad input, the seeded
/// split and the windows.
@Suite struct TextDataTests {
    @Test func vocabularyNumbersCharactersInCodePointOrder() throws {
        let vocabulary = try Vocabulary(of: "hello, world\n".unicodeScalars)
        #expect(vocabulary.description == "\n ,dehlorw")
        #expect(vocabulary.count == 10 && vocabulary.index(of: "\n") == 0 && vocabulary.index(of: "w") == 9)
        let tokens = try vocabulary.encode("hello world")
        #expect(vocabulary.decode(tokens) == "hello world")
        #expect(try Vocabulary(parsing: vocabulary.description) == vocabulary)
        // Characters beyond the Basic Multilingual Plane and combining marks are one token each.
        let wide = try Vocabulary(of: "é😀e\u{301}".unicodeScalars)
        let encoded = try wide.encode("😀e\u{301}")
        #expect(wide.count == 4 && wide.decode(encoded) == "😀e\u{301}")
    }

    @Test func unknownCharactersAndBadVocabulariesAreReported() throws {
        let vocabulary = try Vocabulary(of: "abc\n".unicodeScalars)
        #expect(throws: DataError.self) { try vocabulary.encode("ab\nca!") }
        do {
            _ = try vocabulary.encode("ab\nca!")
        } catch let error as DataError {
            #expect(error.description == "line 2: column 3: character '!' (U+0021) is not in the model's vocabulary of 4 characters")
        }
        #expect(throws: DataError.self) { try Vocabulary(parsing: "ba") }
        #expect(throws: DataError.self) { try Vocabulary(parsing: "") }
        // More distinct characters than a vocabulary holds.
        let many = (0x20000..<(0x20000 + Vocabulary.maximumCount + 1)).compactMap { Unicode.Scalar($0) }
        var text = ""
        text.unicodeScalars.append(contentsOf: many)
        do {
            _ = try TextCorpus(text: text)
            Issue.record("expected an error")
        } catch let error as DataError {
            #expect(error.kind == .unsupported && error.message.contains("distinct characters, more than the 65536"))
        }
    }

    @Test func readsFilesWithTheirLineEndsAndRejectsWhatIsNotText() throws {
        let folder = try temporaryDirectory()
        let file = folder.appendingPathComponent("a.txt")
        try Data([0xEF, 0xBB, 0xBF] + Array("one\r\ntwo\n".utf8)).write(to: file)
        let corpus = try TextCorpus(contentsOf: file)
        #expect(corpus.pieces == ["one\ntwo\n"] && corpus.characterCount == 8)
        // Not UTF-8: the line and the byte are named.
        let binary = folder.appendingPathComponent("b.bin")
        try Data(Array("fine\nstill fine\nbad ".utf8) + [0xFF, 0x41]).write(to: binary)
        do {
            _ = try TextCorpus(contentsOf: binary)
            Issue.record("expected an error")
        } catch let error as DataError {
            #expect(error.description == "b.bin: line 3: not UTF-8 text: byte 0xFF at offset 20 does not start a valid character")
        }
        let empty = folder.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        #expect(throws: DataError(.empty, "there is no text", file: "empty.txt")) { try TextCorpus(contentsOf: empty) }
        #expect(throws: DataError.self) { try TextCorpus(contentsOf: folder.appendingPathComponent("missing.txt")) }
        let blank = folder.appendingPathComponent("blank.txt")
        try Data(" \n\n  \n".utf8).write(to: blank)
        #expect(throws: DataError(.empty, "the word list has no words", file: "blank.txt")) {
            try TextCorpus(contentsOf: blank, shape: .wordList)
        }
    }

    @Test func readsAFolderInNameOrder() throws {
        let folder = try temporaryDirectory()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("second".utf8).write(to: folder.appendingPathComponent("b.txt"))
        try Data("first".utf8).write(to: folder.appendingPathComponent("a.txt"))
        try Data("third".utf8).write(to: folder.appendingPathComponent("sub/c.txt"))
        try Data("hidden".utf8).write(to: folder.appendingPathComponent(".hidden"))
        let corpus = try TextCorpus(contentsOf: folder)
        #expect(corpus.pieces == ["first", "second", "third"])
        #expect(corpus.vocabulary.index(of: "\n") != nil)
        let none = try temporaryDirectory()
        #expect(throws: DataError.self) { try TextCorpus(contentsOf: none) }
    }

    @Test func wordListsAreSplitByWordAndEveryWordEndsAtALineBreak() throws {
        let list = (0..<50).map { "w\($0)" }
        let corpus = try TextCorpus(text: "  " + list.joined(separator: "\n\n") + " \n", shape: .wordList)
        #expect(corpus.pieces == list)
        let (training, validation) = try corpus.split(validationFraction: 0.2, seed: 3)
        func words(_ tokens: [UInt16]) -> [String] {
            corpus.vocabulary.decode(tokens.map(Int.init)).split(separator: "\n").map(String.init)
        }
        #expect(words(validation).count == 10 && words(training).count == 40)
        #expect(Set(words(training) + words(validation)) == Set(list))
        #expect(corpus.vocabulary.decode([Int(training[0]), Int(training.last!)]) == "\n\n")
        // The same seed gives the same split; another seed another one.
        let again = try corpus.split(validationFraction: 0.2, seed: 3)
        let other = try corpus.split(validationFraction: 0.2, seed: 4)
        #expect(again.validation == validation && other.validation != validation)
    }

    @Test func runningTextIsSplitInSeededBlocksThatKeepEveryCharacter() throws {
        let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 100)
        let corpus = try TextCorpus(text: text)
        let (training, validation) = try corpus.split(validationFraction: 0.25, seed: 1, blockLength: 100)
        #expect(training.count + validation.count == text.unicodeScalars.count)
        #expect(validation.count == 1100 && validation.count % 100 == 0)
        let again = try corpus.split(validationFraction: 0.25, seed: 1, blockLength: 100)
        let other = try corpus.split(validationFraction: 0.25, seed: 2, blockLength: 100)
        #expect(again.training == training && other.training != training)
        // Encoded with another model's vocabulary, a missing character is an error.
        let small = try Vocabulary(of: "the quick".unicodeScalars)
        #expect(throws: DataError.self) { try corpus.split(validationFraction: 0.25, seed: 1, vocabulary: small) }
    }

    @Test func windowsCoverTheTextAndTargetsAreTheNextCharacters() {
        let tokens = (0..<101).map { UInt16($0 % 7) }
        let windows = TextWindows(tokens: tokens, context: 10)
        for epoch in 0..<3 {
            let starts = windows.epochStarts(epoch: epoch, seed: 5)
            let offset = starts.min()!
            #expect(offset < 10 && starts.count == (100 - offset) / 10)
            #expect(Set(starts) == Set((0..<starts.count).map { offset + 10 * $0 }))
        }
        #expect(windows.epochStarts(epoch: 0, seed: 5) != windows.epochStarts(epoch: 1, seed: 5))
        let batches = windows.batches(epoch: 0, batchSize: 4, seed: 5)
        #expect(batches.count == windows.epochStarts(epoch: 0, seed: 5).count / 4 && batches.allSatisfy { $0.count == 4 })
        let (inputs, targets) = windows.batch(startingAt: [3, 40])
        #expect(inputs.count == 20 && targets.count == 20)
        #expect(inputs[0] == 3 && targets[0] == 4 && inputs[10] == 40 % 7 && targets[19] == 50 % 7)
        #expect(windows.evaluationStarts() == (0..<10).map { $0 * 10 })
        #expect(windows.evaluationStarts(limit: 4) == [0, 20, 50, 70])
        // A text just one window long still gives one batch.
        #expect(TextWindows(tokens: Array(tokens.prefix(11)), context: 10).batches(epoch: 0, batchSize: 4, seed: 0) == [[0]])
    }

    @Test func splitsAndWindowOrdersAreThoseThePythonPeerComputes() throws {
        // Values printed by scripts/peers_language.py, which re-implements the seeded generator, the
        // permutation, the split and the windows' order to train PyTorch on exactly the same batches.
        #expect(seededPermutation(count: 10, seed: 7) == [1, 8, 3, 0, 4, 5, 9, 6, 2, 7])
        let windows = TextWindows(tokens: [UInt16](repeating: 0, count: 1000), context: 16)
        #expect(Array(windows.epochStarts(epoch: 3, seed: 5).prefix(8)) == [408, 264, 472, 8, 72, 40, 824, 248])
        let words = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("corpora/words-sample.txt")
        let corpus = try TextCorpus(contentsOf: words, shape: .wordList)
        let (training, validation) = try corpus.split(validationFraction: 0.1, seed: 0)
        #expect(training.count == 33356 && validation.count == 3705 && corpus.vocabulary.count == 27)
        #expect(training.prefix(10) == [0, 19, 14, 15, 23, 2, 1, 12, 12, 0] && validation.prefix(10) == [0, 3, 15, 13, 16, 15, 19, 20, 0, 2])
        let fortunes = try TextCorpus(contentsOf: words.deletingLastPathComponent().appendingPathComponent("fortunes-sample.txt"))
        let text = try fortunes.split(validationFraction: 0.1, seed: 0)
        #expect(text.training.count == 22035 && text.validation.count == 2048 && fortunes.vocabulary.count == 79)
        #expect(text.training.prefix(6) == [27, 2, 56, 53, 77, 2] && text.validation.prefix(6) == [53, 74, 57, 2, 59, 67])
    }
}
