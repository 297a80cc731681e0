import ArgumentParser
import BackpropCommandLine
import BackpropDistributed
import BackpropNN
import Foundation

/// `backprop-mpi bench-allreduce`: the median time of an allreduce (sum) of each size, and of a gradient
/// list of that size sent in buckets, so latency and bandwidth can be read off.
struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-allreduce", abstract: "Median allreduce time per message size (and per bucket size for a gradient list).")

    /// Message sizes.
    @Option(help: "Comma-separated message sizes in floats.")
    var floats: String = "1,10,1000,9610,100000,1000000,4000000"

    /// Bucket sizes to try on a gradient list of the largest message.
    @Option(name: .customLong("bucket-kb"), help: "Comma-separated bucket sizes in KiB, tried on a gradient list of --gradient-floats split in --gradient-tensors tensors.")
    var bucketKilobytes: String = ""

    /// The gradient list's total size.
    @Option(help: "Floats in the gradient list for --bucket-kb.") var gradientFloats: Int = 1_000_000
    /// The gradient list's tensor count.
    @Option(help: "Tensors in the gradient list for --bucket-kb.") var gradientTensors: Int = 10

    func run() throws {
        let sizes = try list(floats, flag: "--floats")
        let buckets = bucketKilobytes.isEmpty ? [] : try list(bucketKilobytes, flag: "--bucket-kb")
        guard gradientFloats > 0, gradientTensors > 0, gradientTensors <= gradientFloats else {
            throw UserError("--gradient-floats and --gradient-tensors must be positive, with at least one float a tensor")
        }
        let world = try Communicator()
        for count in sizes {
            var buffer = [Float](repeating: 1, count: count)
            let seconds = try median(world, repeats: count > 100_000 ? 20 : 200) { try world.allreduceSum(&buffer) }
            if world.isRoot {
                print("floats \(count)  bytes \(count * 4)  median \(String(format: "%.1f", seconds * 1e6)) us  "
                    + String(format: "%.3f GB/s", Double(count * 4) / seconds / 1e9))
            }
        }
        let piece = gradientFloats / gradientTensors
        var gradients = (0..<gradientTensors).map { i in
            Tensor<Float>(repeating: 1, shape: [i == gradientTensors - 1 ? gradientFloats - piece * i : piece])
        }
        for kilobytes in buckets {
            let seconds = try median(world, repeats: 20) { try world.sumInBuckets(&gradients, bucketBytes: kilobytes * 1024) }
            if world.isRoot {
                print("gradient list \(gradientFloats) floats in \(gradientTensors) tensors, buckets of \(kilobytes) KiB: median "
                    + String(format: "%.1f us", seconds * 1e6))
            }
        }
        world.finalize()
    }

    /// Median seconds of `repeats` calls of `body`, after a barrier.
    func median(_ world: Communicator, repeats: Int, _ body: () throws -> Void) throws -> Double {
        try world.barrier()
        var times = [Double]()
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    /// Parses a comma-separated list of positive integers.
    func list(_ text: String, flag: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw UserError("\(flag): expected comma-separated positive integers, got '\(text)'")
        }
        return values.map { $0! }
    }
}
