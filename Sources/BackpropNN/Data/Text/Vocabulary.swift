/// The characters of a text, numbered: the tokens of a character language model.
///
/// A character is a Unicode scalar (a code point, as Python's `str` counts them, so a vocabulary built here
/// matches `sorted(set(text))` in a PyTorch script on the same text). Indices follow the scalars' order.
/// A checkpoint keeps the vocabulary as text (`description`), so a trained model reads and writes the same
/// characters.
public struct Vocabulary: Sendable, Equatable, CustomStringConvertible {
    /// The characters, in index order (ascending code points).
    public let characters: [Unicode.Scalar]
    /// Index of each character.
    private let indices: [Unicode.Scalar: Int]

    /// The most characters a vocabulary may hold: 2¹⁶ (every token index is then exact in float32 too).
    public static let maximumCount = 1 << 16

    /// The vocabulary of the characters that occur in `text`.
    ///
    /// - Throws: `DataError` (`.unsupported`) when the text has more than `maximumCount` distinct characters.
    public init(of text: some Sequence<Unicode.Scalar>) throws {
        try self.init(characters: Set(text))
    }

    /// A vocabulary of the given characters (sorted, each once).
    ///
    /// - Throws: `DataError` (`.unsupported`) for more than `maximumCount` characters.
    public init(characters: some Sequence<Unicode.Scalar>) throws {
        let sorted = Set(characters).sorted { $0.value < $1.value }
        guard sorted.count <= Self.maximumCount else {
            throw DataError(
                .unsupported,
                "the text has \(sorted.count) distinct characters, more than the \(Self.maximumCount) a character vocabulary may hold")
        }
        self.characters = sorted
        self.indices = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
    }

    /// Reads a vocabulary written by `description` (its characters, in order).
    ///
    /// - Throws: `DataError` (`.corrupt`) when the text is empty, unsorted or repeats a character.
    public init(parsing text: String) throws {
        let characters = Array(text.unicodeScalars)
        guard !characters.isEmpty, zip(characters, characters.dropFirst()).allSatisfy({ $0.value < $1.value }) else {
            throw DataError(.corrupt, "a stored vocabulary must list distinct characters in ascending order")
        }
        try self.init(characters: characters)
    }

    /// The number of characters.
    public var count: Int { characters.count }

    /// The characters in order, as one string (what a checkpoint stores).
    public var description: String {
        var text = ""
        text.unicodeScalars.append(contentsOf: characters)
        return text
    }

    /// The index of a character, or nil if it is not in the vocabulary.
    public func index(of character: Unicode.Scalar) -> Int? { indices[character] }

    /// The indices of a text's characters.
    ///
    /// - Throws: `DataError` (`.invalidValue`) naming the first character that is not in the vocabulary and
    ///   where it is (line and column, from 1).
    public func encode(_ text: String) throws -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(text.unicodeScalars.count)
        var line = 1, column = 0
        for character in text.unicodeScalars {
            column += 1
            guard let index = indices[character] else {
                throw DataError(
                    .invalidValue, "character \(Self.describe(character)) is not in the model's vocabulary of \(count) characters",
                    line: line, column: column)
            }
            result.append(index)
            if character == "\n" {
                line += 1
                column = 0
            }
        }
        return result
    }

    /// The text of a sequence of indices.
    ///
    /// - Precondition: every index lies in `0..<count`.
    public func decode(_ tokens: some Sequence<Int>) -> String {
        var text = ""
        for token in tokens {
            precondition(token >= 0 && token < count, "Vocabulary.decode: index \(token) is not in 0..<\(count)")
            text.unicodeScalars.append(characters[token])
        }
        return text
    }

    /// A character for a message: `'a' (U+0061)`, or just the code point for invisible ones.
    static func describe(_ character: Unicode.Scalar) -> String {
        let hex = String(character.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: Swift.max(0, 4 - hex.count)) + hex
        if character.properties.isWhitespace || character.properties.generalCategory == .control { return code }
        return "'\(Character(character))' (\(code))"
    }
}
