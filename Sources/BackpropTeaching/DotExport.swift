// The computation graph in Graphviz DOT, and rendering it to SVG with Graphviz's `dot` when installed.

import BackpropFiles
import Foundation

extension ComputationGraph {
    /// The graph in Graphviz DOT: one node per expression node labelled with its name, operation, value and
    /// gradient ∂f/∂node; one edge per input read, in the direction of evaluation (input → operation).
    public func dot(digits: Int = 6) -> String {
        let names = formula.nodeNames
        func number(_ value: Double) -> String { formatSignificant(value, digits: digits) }
        var lines = [
            "digraph computation {",
            "  rankdir=LR;",
            "  label=\(dotString("f = " + formula.source));",
            "  labelloc=t;",
            "  node [fontname=\"Helvetica\", fontsize=11];",
        ]
        for (index, node) in formula.nodes.enumerated() {
            let label: String
            let shape: String
            switch node.operation {
            case .constant(let value):
                label = formatShort(value)
                shape = "plaintext"
            case .variable(let name):
                label = "\(name)\nvalue \(number(values[index]))\ngrad \(number(gradients[index] ?? 0))"
                shape = "ellipse"
            default:
                label = "\(names[index]) = \(formula.operationSymbol(index))\nvalue \(number(values[index]))\ngrad \(number(gradients[index] ?? 0))"
                shape = index == formula.root ? "doubleoctagon" : "box"
            }
            lines.append("  n\(index) [shape=\(shape), label=\(dotString(label))];")
        }
        for (index, node) in formula.nodes.enumerated() {
            for (k, input) in node.inputs.enumerated() {
                let tag = node.inputs.count > 1 ? " [label=\"i\(k + 1)\"]" : ""
                lines.append("  n\(input) -> n\(index)\(tag);")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `text` as a DOT double-quoted string (newlines become `\n` line breaks).
func dotString(_ text: String) -> String {
    var out = "\""
    for c in text {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.append(c)
        }
    }
    return out + "\""
}

/// Why a DOT graph could not be rendered.
public struct GraphvizError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in words.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// The path of Graphviz's `dot` found on `PATH`, or nil when it is not installed.
public func graphvizExecutable(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    let directories = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
    for directory in directories {
        let candidate = "\(directory)/dot"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Renders DOT text to an SVG file by running Graphviz's `dot -Tsvg -o FILE`, where FILE is a temporary file
/// beside `path` renamed over it once `dot` succeeds: an existing file is replaced whole or not at all.
///
/// - Parameters:
///   - text: the graph in DOT.
///   - path: the SVG file to write.
///   - executable: the `dot` to run; by default the one on `PATH`.
/// - Throws: `GraphvizError` when `dot` is not installed, or when it fails (with its message);
///   `FileWriteError` when the file cannot be written.
public func renderSVG(dot text: String, to path: String, executable: String? = graphvizExecutable()) throws {
    guard let executable else {
        throw GraphvizError(message: "cannot render \(path): Graphviz's `dot` is not installed (not found on PATH); install Graphviz, or write the DOT with --dot FILE and render it elsewhere")
    }
    do {
        try AtomicFile.write(to: URL(fileURLWithPath: path)) { temporary in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-Tsvg", "-o", temporary.path]
            let input = Pipe(), errors = Pipe()
            process.standardInput = input
            process.standardError = errors
            do { try process.run() } catch {
                throw GraphvizError(message: "cannot run \(executable): \(error.localizedDescription)")
            }
            input.fileHandleForWriting.write(Data(text.utf8))
            try? input.fileHandleForWriting.close()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw GraphvizError(message: "dot could not write \(path) (status \(process.terminationStatus)): \(message.trimmingSpaces)")
            }
        }
    } catch let error as BackpropFiles.FileWriteError {
        throw FileWriteError(message: error.description)
    }
}

/// Writes `text` to `path` atomically: to a temporary file beside it, flushed, then renamed over it, so an
/// interruption or a full disk leaves any previous file as it was.
///
/// - Throws: `FileWriteError` naming the file and the reason when it cannot be written.
public func writeText(_ text: String, to path: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    do {
        try AtomicFile.write(text, to: URL(fileURLWithPath: path))
    } catch let error as BackpropFiles.FileWriteError {
        let reason = FileManager.default.isWritableFile(atPath: folder) ? error.reason : "permission denied"
        throw FileWriteError(message: "cannot write \(path): \(reason)")
    }
}

/// A file that could not be written.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    /// The file and the reason.
    public var message: String
    /// The message.
    public var description: String { message }
}
