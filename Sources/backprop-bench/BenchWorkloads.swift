import Backprop
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One benchmark workload (docs/benchmark.md lists them): a step to time and a check of its result.
struct BenchWorkload {
    var name: String
    var runs: Int
    var warmUp: Int
    /// Prepares state and returns the step to time; the step returns a number the check reads.
    var prepare: () -> () -> Double
    /// Checks the last step's result (and the state it left); returns a sentence saying what was checked.
    var check: (Double) -> (passed: Bool, detail: String)
}

/// The result of timing one workload.
struct BenchResult {
    var name: String
    var medianMilliseconds: Double
    var peakResidentMegabytes: Double
    var checkPassed: Bool
    var detail: String
}

/// The process's peak resident set size so far, in megabytes.
func peakResidentMegabytes() -> Double {
    var usage = rusage()
    #if canImport(Darwin)
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / 1_048_576
    #else
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
    #endif
}

/// Times `workload`: warm-up runs, then the median of `runs` timed runs.
func runWorkload(_ workload: BenchWorkload) -> BenchResult {
    let step = workload.prepare()
    var last = 0.0
    for _ in 0..<workload.warmUp { last = step() }
    var times: [Double] = []
    for _ in 0..<workload.runs {
        let start = DispatchTime.now().uptimeNanoseconds
        last = step()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    times.sort()
    let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
    let (passed, detail) = workload.check(last)
    return BenchResult(
        name: workload.name, medianMilliseconds: median, peakResidentMegabytes: peakResidentMegabytes(),
        checkPassed: passed, detail: detail)
}

/// The chain workload: float64 x = 0.5; `n` times v = v + 0.001·sin(v); value and dv/dx by reverse mode.
func chainWorkload(_ n: Int, runs: Int = 3, warmUp: Int = 1) -> BenchWorkload {
    var derivative = 0.0
    return BenchWorkload(
        name: "chain\(n)", runs: runs, warmUp: warmUp,
        prepare: {
            {
                let (value, g) = valueWithGradient(at: Tensor<Double>(0.5)) { x in
                    var v = x
                    for _ in 0..<n { v = v + 0.001 * sin(v) }
                    return v
                }
                derivative = g.scalar
                return value.scalar
            }
        },
        check: { value in
            var v = 0.5, d = 1.0
            for _ in 0..<n {
                d *= 1 + 0.001 * Double.cos(v)
                v += 0.001 * Double.sin(v)
            }
            let ok = Swift.abs(value - v) <= 1e-9 * Swift.abs(v) && Swift.abs(derivative - d) <= 1e-9 * Swift.abs(d) + 1e-300
            return (ok, "v = \(value) (closed form \(v)), dv/dx = \(derivative) (closed form \(d))")
        })
}

/// p -= learningRate · g for every parameter, in place, with no temporary tensors (the workloads' plain SGD).
func sgdUpdate(_ parameters: inout [Tensor<Float>], _ gradients: [Tensor<Float>], learningRate: Float) {
    for i in parameters.indices {
        gradients[i].withUnsafeScalars { g in
            parameters[i].withUnsafeMutableScalars { p in
                for j in 0..<p.count { p[j] -= learningRate * g[j] }
            }
        }
    }
}

/// The MLP of mlp-step / mlp-forward: 784-512-512-10, ReLU, mean softmax cross-entropy over 128 rows.
final class BenchMLP {
    let batch = 128, inputs = 784, hidden = 512, classes = 10
    var parameters: [Tensor<Float>]
    let x: Tensor<Float>
    let labels: [Int]

    init() {
        var generator = SeededGenerator(seed: 0)
        x = Tensor.randomNormal(shape: [batch, inputs], using: &generator)
        labels = (0..<batch).map { _ in Int(generator.next() % 10) }
        func he(_ fanIn: Int, _ fanOut: Int) -> Tensor<Float> {
            Tensor.randomNormal(shape: [fanIn, fanOut], standardDeviation: Float((2.0 / Double(fanIn)).squareRoot()), using: &generator)
        }
        parameters = [
            he(inputs, hidden), Tensor.zeros(shape: [hidden]), he(hidden, hidden), Tensor.zeros(shape: [hidden]),
            he(hidden, classes), Tensor.zeros(shape: [classes]),
        ]
    }

    func loss(_ p: [Tensor<Float>]) -> Tensor<Float> {
        let h1 = relu(matmul(x, p[0]) + p[1])
        let h2 = relu(matmul(h1, p[2]) + p[3])
        let logits = matmul(h2, p[4]) + p[5]
        // The mean over rows of -log softmax(logits)[label]: the library's fused primitive, whose pullback
        // is (softmax - onehot) / batch.
        return logits.softmaxCrossEntropy(labels: labels)
    }

    /// Forward, backward and a plain SGD update (lr 0.01); returns the loss before the update.
    func step() -> Double {
        let (value, gradients) = valueWithGradient(at: parameters) { loss($0) }
        sgdUpdate(&parameters, gradients, learningRate: 0.01)
        return Double(value.scalar)
    }

    /// Forward pass and loss only, with nothing recorded.
    func forward() -> Double { Double(withoutRecording { loss(parameters) }.scalar) }
}

/// All workloads by name except micrograd-mlp, which needs its data set (`microgradWorkload(moons:)`).
func benchWorkloads() -> [String: BenchWorkload] {
    var all: [String: BenchWorkload] = [:]
    for n in [1000, 10_000, 100_000, 1_000_000] { all["chain\(n)"] = chainWorkload(n) }
    all["chain3000000"] = chainWorkload(3_000_000, runs: 1, warmUp: 0)
    all["mlp-step"] = BenchWorkload(
        name: "mlp-step", runs: 40, warmUp: 5,
        prepare: {
            let mlp = BenchMLP()
            return mlp.step
        },
        check: { last in (last < 2.3, "loss after 45 SGD steps \(last) (ln 10 ≈ 2.303 at initialisation)") })
    all["mlp-forward"] = BenchWorkload(
        name: "mlp-forward", runs: 40, warmUp: 5,
        prepare: {
            let mlp = BenchMLP()
            return mlp.forward
        },
        check: { last in (last.isFinite && Swift.abs(last - 2.3) < 1.5, "loss \(last) (about ln 10 at initialisation)") })
    // Diagnostic, not one of WORKLOADS.md: the two big products of mlp-forward alone (x·W1, then h·W2 on
    // its ReLU'd output), to separate GEMM time from the rest of the forward pass.
    all["mlp-forward-gemms"] = BenchWorkload(
        name: "mlp-forward-gemms", runs: 40, warmUp: 5,
        prepare: {
            let mlp = BenchMLP()
            return {
                withoutRecording {
                    let h = matmul(mlp.x, mlp.parameters[0])
                    return Double(matmul(h, mlp.parameters[2])[index: 0, 0])
                }
            }
        },
        check: { last in (last.isFinite, "one entry of the second product: \(last)") })
    all["sgemm-1024"] = BenchWorkload(
        name: "sgemm-1024", runs: 10, warmUp: 2,
        prepare: {
            let a = Tensor<Float>.randomUniform(shape: [1024, 1024], seed: 1)
            let b = Tensor<Float>.randomUniform(shape: [1024, 1024], seed: 2)
            return { Double(matmul(a, b)[index: 1023, 1023]) }
        },
        check: { last in
            let a = Tensor<Float>.randomUniform(shape: [1024, 1024], seed: 1).scalars
            let b = Tensor<Float>.randomUniform(shape: [1024, 1024], seed: 2).scalars
            var exact = 0.0
            for k in 0..<1024 { exact += Double(a[1023 * 1024 + k]) * Double(b[k * 1024 + 1023]) }
            return (Swift.abs(last - exact) <= 1e-4 * exact, "C[1023,1023] = \(last), float64 dot product \(exact)")
        })
    all.merge(higherOrderWorkloads()) { $1 }
    all.merge(generalWorkloads()) { $1 }
    all.merge(convolutionWorkloads()) { $1 }
    all.merge(languageModelWorkloads()) { $1 }
    all.merge(moduleWorkloads()) { $1 }
    all.merge(compiledWorkloads()) { $1 }
    all.merge(gradBenchWorkloads()) { $1 }
    return all
}

/// The default order: the peers' workloads, then the chain sizes that show growth.
let defaultBenchOrder = [
    "mlp-step", "mlp-forward", "chain100000", "chain1000000", "micrograd-mlp", "sgemm-1024",
    "chain1000", "chain10000", "chain3000000",
    "mlp-grad", "hvp-mlp", "jacobian-mlp-rev", "jacobian-mlp-fwd", "checkpoint-mlp", "checkpoint-mlp-plain",
    "chain100000-d2", "broadcast-f64", "batched-matmul-f64", "attention-block", "dgemm-1024", "cnn-step",
    "lm-step", "lstm-lm-step",
]
