import ArgumentParser
import Backprop
import BackpropCommandLine
import Foundation

/// `backprop-bench run` (the default command): times the workloads of the project's benchmark, to set beside
/// the peers' scripts.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Time the benchmark workloads (median milliseconds after warm-up; build with -c release).",
        discussion: """
            Workloads: \(defaultBenchOrder.joined(separator: ", ")). Prints one `WORKLOAD MS` line each, then \
            what its self-check verified. Peak memory is the process's peak resident size after the workload, \
            so run sizes in increasing order to read growth.
            """)

    @Argument(help: "Workloads to run (default: all).")
    var workloads: [String] = []

    @Flag(help: "End with one JSON object holding every result.")
    var json = false

    @Flag(help: "Give freed memory back to the system as the C library does by default, instead of the reuse every tool sets up at start (BACKPROP_RETAINED_MEMORY, TensorMemory).")
    var defaultAllocator = false

    @Option(help: "The moons data set for micrograd-mlp (default: the copy bundled with backprop-bench).")
    var moons: String?

    func run() throws {
        // Training loops free and reallocate the same large arrays every step; the tool keeps that memory
        // in the process (mainReportingErrors) rather than re-faulting fresh pages each step, unless asked not to.
        if defaultAllocator { TensorMemory.retainFreedMemory(upTo: 0) }
        var all = benchWorkloads()
        let known = Set(all.keys).union([microgradWorkloadName])
        let names = workloads.isEmpty ? defaultBenchOrder : workloads
        for name in names where !known.contains(name) {
            let listed = defaultBenchOrder + known.subtracting(defaultBenchOrder).sorted()
            throw UserError("unknown workload '\(name)'; known: \(listed.joined(separator: ", "))")
        }
        if names.contains(microgradWorkloadName) {
            all[microgradWorkloadName] = microgradWorkload(moons: try MoonsData(contentsOf: moons.map { URL(fileURLWithPath: $0) } ?? MoonsData.bundledFile))
        }
        var results: [[String: Any]] = []
        var failed = false
        for name in names {
            let result = runWorkload(all[name]!)
            print(String(format: "%@ %.3f", result.name, result.medianMilliseconds))
            print("  check \(result.checkPassed ? "ok" : "FAILED"): \(result.detail); peak RSS \(String(format: "%.0f", result.peakResidentMegabytes)) MB")
            failed = failed || !result.checkPassed
            results.append([
                "workload": result.name, "ms": result.medianMilliseconds, "check": result.checkPassed,
                "peak_rss_mb": result.peakResidentMegabytes,
            ])
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["results": results], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        if failed { throw ExitCode(1) }
    }
}
