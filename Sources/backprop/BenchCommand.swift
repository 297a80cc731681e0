import ArgumentParser
import Backprop
import Foundation

/// `backprop bench`: times the workloads of the project's benchmark beside the peers' scripts.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
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

    @Flag(help: "Give freed memory back to the system as the C library does by default, instead of the library's default reuse (TensorMemory).")
    var defaultAllocator = false

    @Option(help: "The moons data set for micrograd-mlp.")
    var moons: String = "../shared/data/moons.csv"

    func run() throws {
        // Training loops free and reallocate the same large arrays every step; keep that memory in the
        // process (the library's opt-in allocator setting) rather than re-faulting fresh pages each step.
        if defaultAllocator { TensorMemory.retainFreedMemory(upTo: 0) }
        let all = benchWorkloads(moonsPath: moons)
        let names = workloads.isEmpty ? defaultBenchOrder.filter { all[$0] != nil } : workloads
        for name in names where all[name] == nil {
            FileHandle.standardError.write(Data("backprop bench: unknown workload '\(name)' (or its data is missing); known: \(defaultBenchOrder.joined(separator: ", "))\n".utf8))
            throw ExitCode(2)
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
