import Foundation

/// A text to train a character language model on: one UTF-8 text file, a folder of them, or a word list (one
/// word per line), with its vocabulary and a seeded split into training and validation text.
///
/// ```swift
/// let corpus = try TextCorpus(contentsOf: URL(fileURLWithPath: "words.txt"), shape: .wordList)
/// let split = corpus.split(validationFraction: 0.1, seed: 0)
/// let windows = TextWindows(tokens: split.training, context: 64)
/// ```
public struct TextCorpus: Sendable {
    /// How a file is read.
    public enum Shape: String, Sendable, CaseIterable {
        /// Running text: every file is read whole (files of a folder follow each other in name order,
        /// separated by a line break).
        case text
        /// One word (or name, or phrase) per line: blank lines and the spaces around each line are dropped,
        /// and the model learns to spell whole words, each ended by a line break.
        case wordList
    }

    /// How the text was read.
    public let shape: Shape
    /// The files' texts (`.text`) or the words (`.wordList`), in order.
    public let pieces: [String]
    /// The characters that occur, the line break included for a word list.
    public let vocabulary: Vocabulary

    /// The most bytes of text read (files of a folder together): 512 MB.
    public static let maximumBytes = 512 << 20

    /// A corpus of the given text.
    ///
    /// - Throws: `DataError` (`.empty`) when there is no text (for a word list, no word), and (`.unsupported`)
    ///   when it has more distinct characters than a vocabulary holds.
    public init(text: String, shape: Shape = .text) throws {
        try self.init(pieces: [text], shape: shape, name: nil)
    }

    /// Reads a UTF-8 text file, or every file of a folder (and its subfolders, hidden files apart) in name order.
    ///
    /// A byte order mark is dropped and Windows line ends (CR LF) are read as line breaks.
    ///
    /// - Throws: `DataError` naming the file: missing or unreadable (`.fileNotFound`, `.unreadable`), not UTF-8
    ///   (`.invalidValue`, with the line and the byte), no text at all (`.empty`), more than `maximumBytes`
    ///   or more distinct characters than a vocabulary holds (`.unsupported`).
    public init(contentsOf url: URL, shape: Shape = .text) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DataError(.fileNotFound, "no such file or folder (\(url.path))", file: url.lastPathComponent)
        }
        var files = [url]
        if isDirectory.boolValue {
            let found = FileManager.default.enumerator(
                at: url, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            files = (found?.allObjects as? [URL] ?? []).filter {
                (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
            }.sorted { $0.path < $1.path }
            guard !files.isEmpty else { throw DataError(.empty, "the folder has no files", file: url.lastPathComponent) }
        }
        var total = 0
        var texts: [String] = []
        for file in files {
            let size = (try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
            total += size
            guard total <= Self.maximumBytes else {
                throw DataError(
                    .unsupported, "more than \(Self.maximumBytes >> 20) MB of text; a character model here reads at most that much",
                    file: url.lastPathComponent)
            }
            texts.append(try Self.decodeUTF8(readFileBytes(at: file), file: file.lastPathComponent))
        }
        try self.init(pieces: texts, shape: shape, name: url.lastPathComponent)
    }

    private init(pieces texts: [String], shape: Shape, name: String?) throws {
        self.shape = shape
        switch shape {
        case .text:
            pieces = texts.filter { !$0.isEmpty }
            guard !pieces.isEmpty else { throw DataError(.empty, "there is no text", file: name) }
        case .wordList:
            pieces = texts.flatMap { text in
                text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            }
            guard !pieces.isEmpty else { throw DataError(.empty, "the word list has no words", file: name) }
        }
        do {
            vocabulary = try Vocabulary(characters: Set(pieces.lazy.flatMap(\.unicodeScalars)).union(["\n"]))
        } catch let error as DataError {
            var located = error
            located.file = name
            throw located
        }
    }

    /// The number of characters (Unicode scalars) of all pieces.
    public var characterCount: Int { pieces.reduce(0) { $0 + $1.unicodeScalars.count } }

    /// The training and validation text as token indices, split at random by `seed`.
    ///
    /// Running text is cut into blocks of `blockLength` characters (the files joined by line breaks; shorter
    /// blocks when that gives fewer than 20), and the
    /// first `validationFraction` of the blocks (at least one, and at least one left for training) in a seeded
    /// permutation are the validation text; each part keeps its blocks in order. A word list is split by words:
    /// the first `validationFraction` of a seeded permutation of the words are the validation words, the rest
    /// the training words, each part in the permutation's order, each word followed by a line break, after one
    /// leading line break. (scripts/peers_language.py computes the same split in Python.)
    ///
    /// - Parameters:
    ///   - validationFraction: the share held out, in (0, 1).
    ///   - seed: seeds the choice.
    ///   - vocabulary: the numbering (a trained model's); by default the corpus's own.
    ///   - blockLength: the longest blocks of running text.
    /// - Throws: `DataError` (`.invalidValue`) when `vocabulary` lacks one of the text's characters.
    public func split(
        validationFraction: Double, seed: UInt64, vocabulary: Vocabulary? = nil, blockLength: Int = 1024
    ) throws -> (training: [UInt16], validation: [UInt16]) {
        precondition(validationFraction > 0 && validationFraction < 1, "TextCorpus.split: validationFraction must lie in (0, 1), got \(validationFraction)")
        precondition(blockLength > 0, "TextCorpus.split: blockLength must be positive")
        let numbering = vocabulary ?? self.vocabulary
        func encode(_ text: String) throws -> [UInt16] { try numbering.encode(text).map { UInt16($0) } }
        switch shape {
        case .text:
            let all = try encode(pieces.joined(separator: "\n"))
            // Short texts are cut into at least 20 blocks, so that a fraction of them can be held out.
            let length = Swift.min(blockLength, Swift.max(1, all.count / 20))
            let blocks = stride(from: 0, to: all.count, by: length).map { $0..<Swift.min(all.count, $0 + length) }
            let held = Set(seededPermutation(count: blocks.count, seed: seed).prefix(heldOutCount(blocks.count, validationFraction)))
            var training: [UInt16] = [], validation: [UInt16] = []
            for (index, block) in blocks.enumerated() {
                if held.contains(index) { validation += all[block] } else { training += all[block] }
            }
            return (training, validation)
        case .wordList:
            let order = seededPermutation(count: pieces.count, seed: seed)
            let held = heldOutCount(pieces.count, validationFraction)
            let newline = UInt16(numbering.index(of: "\n") ?? 0)
            guard numbering.index(of: "\n") != nil else {
                throw DataError(.invalidValue, "the model's vocabulary has no line break, which ends every word of a word list")
            }
            var training: [UInt16] = [newline], validation: [UInt16] = [newline]
            for (position, index) in order.enumerated() {
                let word = try encode(pieces[index]) + [newline]
                if position < held { validation += word } else { training += word }
            }
            return (training, validation)
        }
    }

    /// How many of `count` pieces are held out: the nearest whole number to `fraction · count`, at least one
    /// and at most `count − 1` (none when there is only one piece).
    private func heldOutCount(_ count: Int, _ fraction: Double) -> Int {
        count < 2 ? 0 : Swift.min(count - 1, Swift.max(1, Int((Double(count) * fraction).rounded())))
    }

    /// Decodes UTF-8, dropping a byte order mark and reading CR LF as LF.
    ///
    /// - Throws: `DataError` (`.invalidValue`) at the first byte that is not UTF-8, with its line and offset.
    static func decodeUTF8(_ bytes: [UInt8], file: String) throws -> String {
        var body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        if body.contains(0x0D) {
            body = body.enumerated().filter { index, byte in !(byte == 0x0D && index + 1 < body.count && body[index + 1] == 0x0A) }.map(\.1)
        }
        if let text = String(validating: body, as: UTF8.self) { return text }
        // Find the first byte that is not UTF-8, to say where it is.
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = body.makeIterator()
        var offset = 0, line = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1 && encoded.first == 0x0A { line += 1 }
                offset += encoded.count
            case .error(let length):
                let byte = String(body[offset], radix: 16, uppercase: true)
                throw DataError(
                    .invalidValue,
                    "not UTF-8 text: byte 0x\(byte.count == 1 ? "0" : "")\(byte) at offset \(offset) does not start a valid character"
                        + (length > 1 ? " (\(length) bytes)" : ""),
                    file: file, line: line)
            case .emptyInput:
                throw DataError(.invalidValue, "not UTF-8 text", file: file)
            }
        }
    }
}
