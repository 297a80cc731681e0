import Foundation
@testable import BackpropNN

/// The URL of a committed fixture (Tests/BackpropNNTests/Fixtures/…).
func fixture(_ path: String) -> URL {
    let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    return root.appendingPathComponent(path)
}

/// A fresh empty directory for one test, removed when the returned cleanup runs.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("BackpropNNTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes bytes to a new file in a temporary directory and returns its URL.
func temporaryFile(named name: String, bytes: [UInt8]) throws -> URL {
    let url = try temporaryDirectory().appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

/// Writes text to a new file in a temporary directory and returns its URL.
func temporaryFile(named name: String, text: String) throws -> URL {
    try temporaryFile(named: name, bytes: Array(text.utf8))
}

/// The bytes of a file.
func bytes(of url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
