import Foundation
import Testing

@testable import BackpropFiles

/// Atomic writes: the target is replaced whole or not at all, and temporary files do not outlive the write
/// (removed on failure, on request, and, when a killed process left them, by the next write).
@Suite(.serialized) struct AtomicFileTests {
    /// A fresh folder, removed by the caller.
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func names(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    @Test func aWriteReplacesTheFileWholeOrNotAtAll() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("plot.svg")
        try AtomicFile.write("first", to: target)
        for failure in [0, 1, 3] {
            #expect(throws: AtomicFile.InjectedFailure.self) {
                try AtomicFile.write(Array("second, longer".utf8), to: target, failAfterByteCount: failure)
            }
            #expect(try String(contentsOf: target, encoding: .utf8) == "first")
        }
        #expect(try names(in: folder) == ["plot.svg"])
        try AtomicFile.write("second", to: target)
        #expect(try String(contentsOf: target, encoding: .utf8) == "second")
        #expect(throws: FileWriteError.self) { try AtomicFile.write("x", to: folder.appendingPathComponent("missing/plot.svg")) }
    }

    @Test func aProducerThatFailsLeavesNothingBehind() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("graph.svg")
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try AtomicFile.write(to: target) { temporary in
                try "half".write(to: temporary, atomically: false, encoding: .utf8)
                throw Refused()
            }
        }
        #expect(try names(in: folder).isEmpty)
        try AtomicFile.write(to: target) { try "whole".write(to: $0, atomically: false, encoding: .utf8) }
        #expect(try String(contentsOf: target, encoding: .utf8) == "whole")
        #expect(try names(in: folder) == ["graph.svg"])
    }

    @Test func removingTheFilesInProgressRemovesThisWritesTemporaryFile() throws {
        // What the signal handler and the MPI watchdog do before the process ends.
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("m.safetensors")
        try AtomicFile.write("old", to: target)
        #expect(throws: FileWriteError.self) {
            try AtomicFile.write(to: target) { temporary in
                try "new".write(to: temporary, atomically: false, encoding: .utf8)
                #expect(FileManager.default.fileExists(atPath: temporary.path))
                // Only this folder's: every other test's writes in progress in this process would go too.
                AtomicFile.removeTemporaryFilesInProgress(in: folder)
                #expect(!FileManager.default.fileExists(atPath: temporary.path))
            }
        }
        #expect(try String(contentsOf: target, encoding: .utf8) == "old")
        #expect(try names(in: folder) == ["m.safetensors"])
    }

    @Test func aFinishedWriteDoesNotFreeTheSlotAnotherWriteTookOver() {
        // A write renamed into place frees its slot, and then discards (a no-op for it). Between the two,
        // another write may take the slot: the discard must leave that one registered, or its temporary file
        // would outlive a signal (and the test above failed now and then in full parallel runs).
        let progress = InProgress.shared
        let first = progress.add("/backprop-test/.a.tmp")
        #expect(first >= 0)
        progress.remove(first, path: "/backprop-test/.a.tmp")
        var taken: [Int] = []
        var second = -1
        while second != first, taken.count < InProgress.slotCount {
            second = progress.add("/backprop-test/.b\(taken.count).tmp")
            taken.append(second)
        }
        defer { for (k, slot) in taken.enumerated() { progress.remove(slot, path: "/backprop-test/.b\(k).tmp") } }
        #expect(second == first, "the freed slot was not reused")
        let path = "/backprop-test/.b\(taken.count - 1).tmp"
        #expect(!progress.isActive(first, path: "/backprop-test/.a.tmp"))
        progress.remove(first, path: "/backprop-test/.a.tmp")
        #expect(progress.contains(path))
    }

    @Test func theNextWriteSweepsStaleTemporaryFilesOfDeadProcesses() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("m.safetensors")
        // A process that has ended: its PID names the temporary files it would have left.
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/sh")
        finished.arguments = ["-c", "exit 0"]
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier
        let alive = ProcessInfo.processInfo.processIdentifier == 1 ? 2 : 1  // init (or a process) that runs
        func leave(_ name: String, ageSeconds: Double) throws {
            let path = folder.appendingPathComponent(name).path
            try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: path))
            let then = Date().addingTimeInterval(-ageSeconds)
            try FileManager.default.setAttributes([.modificationDate: then], ofItemAtPath: path)
        }
        try leave(".m.safetensors.\(dead).123.tmp", ageSeconds: 3600)  // stale: removed
        try leave(".m.safetensors.\(dead).456.tmp", ageSeconds: 1)  // too recent: kept for now
        try leave(".m.safetensors.\(alive).789.tmp", ageSeconds: 3600)  // its process runs: kept
        try leave(".other.safetensors.\(dead).1.tmp", ageSeconds: 3600)  // another file's: kept
        try leave(".m.safetensors.notapid.1.tmp", ageSeconds: 3600)  // not our naming: kept
        try AtomicFile.write("new", to: target)
        #expect(try names(in: folder) == [
            ".m.safetensors.\(alive).789.tmp", ".m.safetensors.\(dead).456.tmp", ".m.safetensors.notapid.1.tmp",
            ".other.safetensors.\(dead).1.tmp", "m.safetensors",
        ].sorted())
        #expect(AtomicFile.removeStaleTemporaryFiles(of: target, olderThan: 0) == 1)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".m.safetensors.\(dead).456.tmp").path))
    }
}
