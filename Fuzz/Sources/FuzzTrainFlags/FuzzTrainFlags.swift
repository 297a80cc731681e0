import BackpropCommandLine
import BackpropNN
import Foundation
import FuzzSupport

/// A folder of the files the flags may name: a small CSV file, a checkpoint trained on it, an MNIST-style
/// folder of four tiny IDX files. Every path the input gives is mapped into it (the fuzzer must not write
/// anywhere else).
nonisolated(unsafe) let folder: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-fuzz-flags-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    let rows = (0..<30).map { row in "\(row % 7),\(row % 3),\(Double(row) / 10),\(row % 3)" }
    try? rows.joined(separator: "\n").write(to: url.appendingPathComponent("d.csv"), atomically: true, encoding: .utf8)
    let mnist = url.appendingPathComponent("mnist")
    try? FileManager.default.createDirectory(at: mnist, withIntermediateDirectories: true)
    for part in ["train", "t10k"] {
        var images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 6, 0, 0, 0, 4, 0, 0, 0, 4]
        images += (0..<96).map { UInt8(($0 * 37) % 256) }
        try? Data(images).write(to: mnist.appendingPathComponent("\(part)-images-idx3-ubyte"))
        try? Data([0, 0, 8, 1, 0, 0, 0, 6, 0, 1, 2, 0, 1, 2]).write(to: mnist.appendingPathComponent("\(part)-labels-idx1-ubyte"))
    }
    // The folder goes when the fuzzer ends.
    atexit {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-fuzz-flags-\(getpid())")
        try? FileManager.default.removeItem(at: path)
    }
    if let options = try? TrainOptions.parse([
        "--data", url.appendingPathComponent("d.csv").path, "--epochs", "1", "--layers", "4", "--quiet",
        "--save", url.appendingPathComponent("m.safetensors").path, "--plot", url.appendingPathComponent("m.svg").path,
    ]) {
        try? options.run()
    }
    return url
}()

/// The flags whose value is a path.
let pathFlags: Set<String> = ["--data", "--save", "--resume", "--plot"]

/// libFuzzer's entry point: the input's lines are `backprop train`'s arguments. Paths are mapped into the
/// fuzzing folder (their last component kept), and a run is kept short (at most 3 epochs, `--data` the small
/// CSV file when none is given). Parse errors, user errors and divergence are fine; traps are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    var arguments = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(40).map(String.init)
    for index in arguments.indices.dropFirst() where pathFlags.contains(arguments[index - 1]) {
        let name = arguments[index].split(separator: "/").last.map(String.init) ?? "x"
        arguments[index] = folder.appendingPathComponent(name.isEmpty || name == ".." ? "x" : name).path
    }
    // Short runs only: a few epochs, small data, small limits.
    if let at = arguments.firstIndex(of: "--epochs") {
        guard at + 1 < arguments.count, let epochs = Int(arguments[at + 1]), epochs <= 3 else { return 0 }
    } else if !arguments.contains("--resume") {
        arguments += ["--epochs", "1"]
    }
    if !arguments.contains("--data") { arguments += ["--data", folder.appendingPathComponent("d.csv").path] }
    if !arguments.contains("--memory-limit") { arguments += ["--memory-limit", "256M"] }
    for flag in ["--save", "--plot"] where !arguments.contains(flag) {
        arguments += [flag, folder.appendingPathComponent(flag == "--save" ? "out.safetensors" : "out.svg").path]
    }
    if !arguments.contains("--quiet") { arguments.append("--quiet") }
    // Batches of one example over wide layers would make a slow run, not a finding.
    if let at = arguments.firstIndex(of: "--layers"), at + 1 < arguments.count,
        arguments[at + 1].split(separator: ",").compactMap({ Int($0.trimmingCharacters(in: .whitespaces)) }).contains(where: { $0 > 512 })
    {
        return 0
    }
    guard let options = try? TrainOptions.parse(arguments) else { return 0 }
    do { try options.run() } catch {}
    return 0
}

/// The executable's entry point as SwiftPM names it: hands the command line to libFuzzer.
@_cdecl("FuzzTrainFlags_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
