import Foundation
import Testing

/// The built `backprop` executable run as a user runs it, for what only a process shows: its exit status
/// when standard output cannot be written, and the files a signal during a save leaves.
@Suite(.serialized)
struct ProcessTests {
    /// The `backprop` executable beside the test bundle (`swift test` builds it with the tests).
    var tool: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("backprop")
    }

    /// A fresh temporary folder, removed by the caller.
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Starts the tool with `arguments` in the test runner's environment with `environment` added and the
    /// variables named in `removing` taken out; stdout goes to `output` (nil: a pipe read at the end).
    func start(_ arguments: [String], output: FileHandle? = nil, environment: [String: String] = [:],
               removing: Set<String> = []) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !removing.contains($0.key) }.merging(environment) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = output ?? FileHandle.nullDevice
        try process.run()
        return (process, errors)
    }

    /// Starts the tool as a shell would: every signal unblocked and at its default disposition (a test
    /// runner's threads block most signals, and `Process` hands its mask down), output to /dev/null.
    func spawn(_ arguments: [String], environment: [String: String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([tool.path] + arguments).map { strdup($0) } + [nil]
        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, tool.path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        return pid
    }

    /// Waits for `pid` to end; returns the signal that ended it, or nil if it exited.
    func waitForSignal(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        return signal != 0 && signal != 0x7F ? signal : nil
    }

    @Test func theToolIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: tool.path), "no executable at \(tool.path)")
    }

    @Test func aFullStandardOutputIsAFailure() throws {
        guard let full = FileHandle(forWritingAtPath: "/dev/full") else { return }  // not Linux
        for arguments in [["grad", "x^2", "--at", "x=3"], ["compare", "x*y", "--at", "x=1,y=2"], ["train", "--help"], ["--version"]] {
            let (process, errors) = try start(arguments, output: full)
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 1, "\(arguments): \(message)")
            #expect(message.contains("error: cannot write to standard output: No space left on device"), "\(message)")
        }
    }

    @Test func settingsAreReadAtStartWithAWarningForFormerNamesAndBadValues() throws {
        // The tool reads BackpropSettings when it starts (to keep freed memory for reuse), so its warnings come
        // first; the run itself goes on.
        // The runner's own settings are taken out: under `BACKPROP_DISABLE_AVX512=1 swift test` (the AVX2 path's
        // run) the new name would take precedence over the former one and silence its warning.
        let environment = ["BP_DISABLE_AVX512": "1", "BACKPROP_THREADS": "many"]
        let settings: Set = ["BACKPROP_DISABLE_AVX2", "BACKPROP_DISABLE_AVX512", "BACKPROP_RETAINED_MEMORY",
                             "BACKPROP_DEBUG_COMPILE", "BP_DISABLE_AVX2"]
        let (process, errors) = try start(["grad", "x^2", "--at", "x=3"], environment: environment, removing: settings)
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(message)")
        #expect(message.contains("backprop: BP_DISABLE_AVX512 is deprecated; set BACKPROP_DISABLE_AVX512 instead"), "\(message)")
        #expect(message.contains("backprop: BACKPROP_THREADS=many is not a whole number from 1 to 1024"), "\(message)")
        #expect(message.split(separator: "\n").count == 2, "\(message)")
    }

    @Test func aSignalDuringASaveLeavesTheOldFileAndNoTemporaryFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plot = folder.appendingPathComponent("plot.svg")
        let dot = folder.appendingPathComponent("graph.dot")
        let checkpoint = folder.appendingPathComponent("m.safetensors")
        let runs: [(file: URL, arguments: [String], signal: Int32)] = [
            (plot, ["minimize", "x^2 + y^2", "--from", "x=1,y=1", "--steps", "5", "--plot", plot.path], SIGINT),
            (dot, ["grad", "x*y", "--at", "x=1,y=2", "--dot", dot.path], SIGTERM),
            (checkpoint, ["train", "--epochs", "1", "--layers", "8", "--quiet", "--save", checkpoint.path, "--plot", plot.path], SIGHUP),
        ]
        for (file, arguments, signal) in runs {
            try Data("old".utf8).write(to: file)
            let process = try spawn(arguments, environment: ["BACKPROP_TEST_PAUSE_BEFORE_RENAME": "30"])
            // Wait until the new content is complete in its temporary file, the rename not yet done.
            let prefix = "." + file.lastPathComponent + "."
            var waited = 0.0
            while waited < 60, try !FileManager.default.contentsOfDirectory(atPath: folder.path).contains(where: { $0.hasPrefix(prefix) }) {
                Thread.sleep(forTimeInterval: 0.05)
                waited += 0.05
            }
            #expect(try String(contentsOf: file, encoding: .utf8) == "old", "\(arguments[0]) touched \(file.lastPathComponent) before the rename")
            kill(process, signal)
            #expect(waitForSignal(process) == signal, "\(arguments[0])")
            #expect(try String(contentsOf: file, encoding: .utf8) == "old")
            let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
            #expect(left.isEmpty, "\(arguments[0]) left \(left)")
        }
    }
}
