import Foundation
import Testing

/// The documentation stays true: README.md is at most 300 lines; every Swift snippet of the README and of the
/// DocC articles appears verbatim in a test or in a program the tests run (so it compiles and runs as
/// printed); every repository path they name exists, and none points outside the repository.
struct DocumentationTests {
    /// The repository's root, from this file's place in it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// README.md and every DocC article, relative to the root.
    static var documents: [String] {
        var paths = ["README.md"]
        let sources = root.appendingPathComponent("Sources")
        for module in (try? FileManager.default.contentsOfDirectory(atPath: sources.path)) ?? [] {
            let catalog = sources.appendingPathComponent(module).appendingPathComponent("\(module).docc")
            for file in (try? FileManager.default.contentsOfDirectory(atPath: catalog.path)) ?? [] where file.hasSuffix(".md") {
                paths.append("Sources/\(module)/\(module).docc/\(file)")
            }
        }
        return paths.sorted()
    }

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The code of every ```swift block of `text`.
    static func swiftSnippets(in text: String) -> [String] {
        var snippets: [String] = [], current: [Substring]? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```swift" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                snippets.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return snippets
    }

    /// The lines that must match: trimmed, without blank lines and without `import`s (a test file has
    /// its imports at the top, not inside the test).
    static func significantLines(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("import ") }
    }

    /// Every Swift file of the tests and of the programs the tests run, as significant lines.
    static let testedCode: [String: [String]] = {
        var files: [String: [String]] = [:]
        for folder in ["Tests", "Distributed/Sources", "Examples/Sources"] {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { continue }
            for case let path as String in walker where path.hasSuffix(".swift") {
                if let text = try? String(contentsOf: base.appendingPathComponent(path), encoding: .utf8) {
                    files["\(folder)/\(path)"] = significantLines(text)
                }
            }
        }
        return files
    }()

    @Test func readmeIsShort() throws {
        let lines = try Self.read("README.md").split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(lines <= 300, "README.md has \(lines) lines")
    }

    @Test(arguments: documents) func everySwiftSnippetIsTestedVerbatim(_ document: String) throws {
        for snippet in Self.swiftSnippets(in: try Self.read(document)) {
            let wanted = Self.significantLines(snippet)
            let found = Self.testedCode.contains { _, lines in
                lines.count >= wanted.count
                    && (0...(lines.count - wanted.count)).contains { lines[$0..<($0 + wanted.count)].elementsEqual(wanted) }
            }
            #expect(found, "\(document): this snippet is in no test verbatim:\n\(snippet)")
        }
    }

    @Test(arguments: documents) func everyPathNamedExists(_ document: String) throws {
        let text = try Self.read(document)
        #expect(!text.contains("../shared") && !text.contains("../../"), "\(document) names a path outside the repository")
        // Markdown links to files, and anything that looks like a path under one of the repository's folders.
        var paths: [String] = []
        let link = /\]\(([^)#:\s]+)\)/
        for match in text.matches(of: link) { paths.append(String(match.1)) }
        let mentioned = /(?:^|[\s`(\[])((?:Sources|Tests|scripts|docs|Examples|Distributed)\/[A-Za-z0-9_.+\/-]*)/
        for match in text.matches(of: mentioned) { paths.append(String(match.1)) }
        for var path in paths {
            while let last = path.last, ".,;:".contains(last) { path.removeLast() }
            // Images of an article live in its catalog's Resources folder.
            var candidates = [Self.root.appendingPathComponent(path).path]
            if document.contains(".docc/") {
                let catalog = Self.root.appendingPathComponent(document).deletingLastPathComponent()
                candidates.append(catalog.appendingPathComponent("Resources").appendingPathComponent(path).path)
            }
            #expect(candidates.contains { FileManager.default.fileExists(atPath: $0) }, "\(document) names \(path), which does not exist")
        }
    }

    /// The programs of Examples/, as (name, text of main.swift).
    static var examplePrograms: [(name: String, text: String)] {
        let sources = root.appendingPathComponent("Examples/Sources")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: sources.path)) ?? []).sorted()
        return names.compactMap { name in
            (try? String(contentsOf: sources.appendingPathComponent("\(name)/main.swift"), encoding: .utf8)).map { (name, $0) }
        }
    }

    /// Significant lines without comment lines.
    static func codeLines(_ lines: [String]) -> [String] { lines.filter { !$0.hasPrefix("//") } }

    /// Examples/ is a package of its own that `swift test` does not build: each program's code (comment
    /// lines aside) must appear line for line in a test (`ExampleProgramTests`), which compiles and runs it.
    @Test func everyExampleProgramIsTestedVerbatim() throws {
        let programs = Self.examplePrograms
        #expect(programs.map(\.name).contains("SineRegression") && programs.map(\.name).contains("CustomClassifier"))
        let tests = Self.testedCode.filter { $0.key.hasPrefix("Tests/") }.mapValues(Self.codeLines)
        for (name, text) in programs {
            let wanted = Self.codeLines(Self.significantLines(text))
            let found = tests.contains { _, lines in
                lines.count >= wanted.count
                    && (0...(lines.count - wanted.count)).contains { lines[$0..<($0 + wanted.count)].elementsEqual(wanted) }
            }
            #expect(found, "Examples/Sources/\(name)/main.swift is in no test line for line")
        }
    }

    /// Issue #21's user test of what a model of one's own takes: in the examples' custom models, every line
    /// is a stored layer, the signature of `callAsFunction` or its maths (or a brace); the count of other
    /// lines (names, parameter lists, getters and setters, typealiases) is zero.
    @Test(arguments: [("SineRegression", "SineModel"), ("CustomClassifier", "DigitClassifier")])
    func aCustomModelIsItsLayersAndItsMathsAlone(_ program: String, _ model: String) throws {
        let text = try Self.read("Examples/Sources/\(program)/main.swift")
        let lines = Self.significantLines(text)
        let start = try #require(lines.firstIndex(of: "struct \(model): Layer {"))
        var depth = 1, index = start + 1
        var properties = 0, maths = 0, other: [String] = []
        var inCall = false
        while depth > 0 {
            let line = lines[index]
            index += 1
            let opened = line.filter { $0 == "{" }.count, closed = line.filter { $0 == "}" }.count
            defer { depth += opened - closed }
            if line == "}" { if depth == 2 { inCall = false }; continue }
            if depth == 1 && line.hasPrefix("func callAsFunction(") && line.hasSuffix("{") { inCall = true; continue }
            if inCall { maths += 1; continue }
            if depth == 1 && line.hasPrefix("var ") && opened == 0 { properties += 1; continue }
            other.append(line)
        }
        #expect(properties > 0 && maths > 0)
        #expect(other.isEmpty, "\(model) has \(other.count) lines beyond its layers and maths: \(other)")
    }
}
