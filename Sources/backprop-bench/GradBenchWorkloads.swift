import Backprop
import Foundation

// GradBench's LSTM and GMM objectives (ADBench `lstm` and `gmm`), float64, written as a user of the library
// would, with deterministic data that scripts/peers_gradbench.py builds the same way for JAX and PyTorch. Each
// workload's check compares the objective and one checksum per gradient with JAX's numbers
// (`python3 scripts/peers_gradbench.py --reference`).

/// The LSTM objective's data: GradBench's shapes with formulas instead of a random generator.
struct LSTMProblem {
    let layers: Int, steps: Int, width = 14
    let main: Tensor<Double>, extra: Tensor<Double>, state: Tensor<Double>, sequence: Tensor<Double>

    init(layers: Int, steps: Int) {
        self.layers = layers
        self.steps = steps
        let b = 14
        func grid(_ rows: Int, _ columns: Int, _ f: (Double, Double) -> Double) -> Tensor<Double> {
            Tensor(shape: [rows, columns], scalars: (0..<rows).flatMap { i in (0..<columns).map { j in f(Double(i), Double(j)) } })
        }
        main = grid(2 * layers, 4 * b) { i, j in 0.3 * sin(0.7 + 0.37 * i + 0.11 * j) }
        extra = grid(3, b) { i, j in 0.5 + 0.3 * cos(0.5 + 0.21 * i + 0.13 * j) }
        state = grid(2 * layers, b) { i, j in 0.2 * sin(0.3 * i + 0.17 * j) }
        sequence = grid(steps, b) { t, j in 0.8 * sin(0.05 * t + 0.29 * j) }
    }

    /// The average negative log-likelihood of the sequence under the LSTM (GradBench's `lstm_objective`), as a
    /// `scan` over the time steps (as GradBench's JAX tool writes it with `lax.scan`).
    func objective(_ main: Tensor<Double>, _ extra: Tensor<Double>) -> Tensor<Double> {
        let b = width, l = layers
        let initial = (0..<l).map { state[2 * $0] } + (0..<l).map { state[2 * $0 + 1] } + [Tensor<Double>(0)]
        let inputs = [sequence.slicing(0..<(steps - 1)), sequence.slicing(1..<steps)]
        let (carry, _) = scan(initial: initial, over: inputs, parameters: [main, extra]) { c, x, p in
            var hidden = Array(c[0..<l]), cell = Array(c[l..<(2 * l)])
            var input = x[0] * p[1][0]
            for i in 0..<l {
                let w = p[0][2 * i], bias = p[0][2 * i + 1]
                func gate(_ k: Int, _ v: Tensor<Double>) -> Tensor<Double> {
                    v * w.slicing((k * b)..<((k + 1) * b)) + bias.slicing((k * b)..<((k + 1) * b))
                }
                let forget = sigmoid(gate(0, input)), ingate = sigmoid(gate(1, hidden[i]))
                let outgate = sigmoid(gate(2, input)), change = tanh(gate(3, hidden[i]))
                cell[i] = cell[i] * forget + ingate * change
                hidden[i] = outgate * tanh(cell[i])
                input = hidden[i]
            }
            let prediction = input * p[1][1] + p[1][2]
            let normalized = prediction - log(exp(prediction).sum() + 2)
            return (hidden + cell + [c[2 * l] + (x[1] * normalized).sum()], [])
        }
        return -carry[2 * l] / Double((steps - 1) * b)
    }

    /// The same objective as a Swift loop over the time steps (each step traced anew by `compiled`).
    func unrolledObjective(_ main: Tensor<Double>, _ extra: Tensor<Double>) -> Tensor<Double> {
        let b = width
        var hidden = (0..<layers).map { state[2 * $0] }, cell = (0..<layers).map { state[2 * $0 + 1] }
        let weights = (0..<layers).map { main[2 * $0] }, biases = (0..<layers).map { main[2 * $0 + 1] }
        let (inputScale, outputScale, outputShift) = (extra[0], extra[1], extra[2])
        var total = Tensor<Double>(0)
        for t in 0..<(steps - 1) {
            var x = sequence[t] * inputScale
            for i in 0..<layers {
                let w = weights[i], bias = biases[i]
                func gate(_ k: Int, _ v: Tensor<Double>) -> Tensor<Double> {
                    v * w.slicing((k * b)..<((k + 1) * b)) + bias.slicing((k * b)..<((k + 1) * b))
                }
                let forget = sigmoid(gate(0, x)), ingate = sigmoid(gate(1, hidden[i]))
                let outgate = sigmoid(gate(2, x)), change = tanh(gate(3, hidden[i]))
                cell[i] = cell[i] * forget + ingate * change
                hidden[i] = outgate * tanh(cell[i])
                x = hidden[i]
            }
            let prediction = x * outputScale + outputShift
            let normalized = prediction - log(exp(prediction).sum() + 2)
            total = total + (sequence[t + 1] * normalized).sum()
        }
        return -total / Double((steps - 1) * b)
    }
}

/// The GMM objective's data: GradBench's `gmm` with d = 64, k = 100, n = 1000.
struct GMMProblem {
    let d = 64, k = 100, n = 1000
    let x: Tensor<Double>, alpha: Tensor<Double>, mu: Tensor<Double>, q: Tensor<Double>, l: Tensor<Double>
    /// For each of the d·d entries of a cluster's lower-triangular factor, its column in [0 | l] (0 for zero).
    let lowerIndices: [Int]

    init() {
        func grid(_ rows: Int, _ columns: Int, _ f: (Double, Double) -> Double) -> Tensor<Double> {
            Tensor(shape: [rows, columns], scalars: (0..<rows).flatMap { i in (0..<columns).map { j in f(Double(i), Double(j)) } })
        }
        x = grid(1000, 64) { i, j in sin(0.013 * i + 0.7 * j) + 0.3 * cos(0.029 * i - 0.31 * j) }
        alpha = Tensor((0..<100).map { 0.1 * sin(0.5 * Double($0)) })
        mu = grid(100, 64) { i, j in sin(0.11 * i + 0.37 * j) }
        q = grid(100, 64) { i, j in 0.1 * cos(0.23 * i + 0.41 * j) }
        l = grid(100, 64 * 63 / 2) { i, p in 0.05 * sin(0.07 * i + 0.013 * p) }
        // l lists the strictly lower entries column by column (GradBench's order).
        var indices = [Int](repeating: 0, count: 64 * 64)
        var next = 1
        for column in 0..<63 {
            for row in (column + 1)..<64 {
                indices[row * 64 + column] = next
                next += 1
            }
        }
        lowerIndices = indices
    }

    /// The log-likelihood of the points under the mixture plus the Wishart prior (GradBench's `gmm_objective`).
    func objective(_ alpha: Tensor<Double>, _ mu: Tensor<Double>, _ q: Tensor<Double>, _ l: Tensor<Double>) -> Tensor<Double> {
        let qDiagonal = exp(q)
        let sumQ = q.sum(alongAxes: 1)
        // Each cluster's strictly lower factor L as a [k, d, d] gather of [0 | l].
        let padded = Tensor(concatenating: [Tensor.zeros(shape: [k, 1]), l], alongAxis: 1)
        let lower = padded.gathering(atIndices: lowerIndices, alongAxis: 1).reshaped(to: [k, d, d])
        let centered = x.reshaped(to: [n, 1, d]) - mu.reshaped(to: [1, k, d])           // [n, k, d]
        let byCluster = centered.transposed(permutation: [1, 0, 2])                    // [k, n, d]
        let product = matmul(byCluster, lower, transposeB: true).transposed(permutation: [1, 0, 2])  // [n, k, d]
        let lx = qDiagonal * centered + product
        let inner = alpha + sumQ - 0.5 * (lx * lx).sum(alongAxes: 2)                  // [n, k]
        let sumLogSumExp = inner.logSumExp(alongAxes: 1).sum()
        let gamma = 1.0, m = 0.0, nn = Double(d) + m + 1
        let squares: Tensor<Double> = (qDiagonal * qDiagonal).sum(alongAxes: 1) + (l * l).sum(alongAxes: 1)
        let penalty: Tensor<Double> = (0.5 * gamma * gamma * squares - m * sumQ).sum()
        let normaliser: Double = nn * Double(d) * Foundation.log(gamma / 2.0.squareRoot()) - multivariateLogGamma(0.5 * nn, d)
        let prior: Tensor<Double> = Double(k) * normaliser - penalty
        let constant: Double = -Double(n * d) * 0.5 * Foundation.log(2 * Double.pi)
        let mixture: Tensor<Double> = sumLogSumExp - Double(n) * alpha.logSumExp(alongAxes: 0)
        return constant + mixture + prior
    }
}

/// log Γ_p(a) = p(p − 1)/4 · log π + Σ_{j=1}^{p} log Γ(a + (1 − j)/2).
func multivariateLogGamma(_ a: Double, _ p: Int) -> Double {
    Double(p * (p - 1)) / 4 * Foundation.log(Double.pi) + (1...p).reduce(0) { $0 + lgamma(a + Double(1 - $1) / 2) }
}

/// Σ g[i]·sin(i + 1) over the row-major elements (as scripts/peers_gradbench.py computes it).
func checksum(_ g: Tensor<Double>) -> Double {
    g.scalars.enumerated().reduce(0) { $0 + $1.element * sin(Double($1.offset) + 1) }
}

/// Whether `values` match `expected` to `tolerance` relative; with a sentence saying what was compared.
func matches(_ values: [Double], _ expected: [Double], tolerance: Double = 1e-8) -> (Bool, String) {
    let worst = zip(values, expected).map { Swift.abs($0 - $1) / Swift.max(1e-12, Swift.abs($1)) }.max() ?? 0
    return (worst <= tolerance, "objective and gradient checksums \(values) against JAX's \(expected) (worst relative \(worst))")
}

/// The GradBench workloads of issue #20, eager and compiled.
func gradBenchWorkloads() -> [String: BenchWorkload] {
    var all: [String: BenchWorkload] = [:]
    let lstmReference: [String: [Double]] = [
        "lstm-grad": [0.010505485684150441, 3.716888798405358e-05, -0.00012452238631927384],
        "lstm-grad-large": [-0.006064471054510182, -0.00012134200445378007, 0.0009155192591368425],
    ]
    for (name, layers, steps) in [("lstm-grad", 2, 1024), ("lstm-grad-large", 4, 4096)] {
        for (isCompiled, isUnrolled) in [(false, false), (false, true), (true, false), (true, true)] {
            if isUnrolled && name == "lstm-grad-large" { continue }
            let workload = name + (isUnrolled ? "-unrolled" : "") + (isCompiled ? "-compiled" : "")
            var result: [Double] = []
            var compileMilliseconds = 0.0
            all[workload] = BenchWorkload(
                name: workload, runs: name == "lstm-grad" ? 5 : 3, warmUp: 1,
                prepare: {
                    let problem = LSTMProblem(layers: layers, steps: steps)
                    let eager: ([Tensor<Double>]) -> [Tensor<Double>] = { p in
                        let (value, g) = valueWithGradient(at: p[0], p[1]) {
                            isUnrolled ? problem.unrolledObjective($0, $1) : problem.objective($0, $1)
                        }
                        return [value, g.0, g.1]
                    }
                    let step = isCompiled ? compiled(eager) : eager
                    if isCompiled { compileMilliseconds = milliseconds { _ = step([problem.main, problem.extra]) } }
                    return {
                        let out = step([problem.main, problem.extra])
                        result = [out[0].scalar, checksum(out[1]), checksum(out[2])]
                        return out[0].scalar
                    }
                },
                check: { _ in
                    let (passed, detail) = matches(result, lstmReference[name]!)
                    return (passed, detail + (isCompiled ? "; trace and compile \(compileMilliseconds) ms" : ""))
                })
        }
    }
    let gmmReference = [-565034.7434929581, 4.645900545464004, 2.130812035752271, -18.500739297458097, 422.8730902662794]
    for isCompiled in [false, true] {
        let workload = isCompiled ? "gmm-grad-compiled" : "gmm-grad"
        var result: [Double] = []
        var compileMilliseconds = 0.0
        all[workload] = BenchWorkload(
            name: workload, runs: 5, warmUp: 1,
            prepare: {
                let problem = GMMProblem()
                let eager: ([Tensor<Double>]) -> [Tensor<Double>] = { p in
                    let (value, g) = valueWithGradient(at: p) { problem.objective($0[0], $0[1], $0[2], $0[3]) }
                    return [value] + g
                }
                let step = isCompiled ? compiled(eager) : eager
                let arguments = [problem.alpha, problem.mu, problem.q, problem.l]
                if isCompiled { compileMilliseconds = milliseconds { _ = step(arguments) } }
                return {
                    let out = step(arguments)
                    result = [out[0].scalar] + out.dropFirst().map(checksum)
                    return out[0].scalar
                }
            },
            check: { _ in
                let (passed, detail) = matches(result, gmmReference)
                return (passed, detail + (isCompiled ? "; trace and compile \(compileMilliseconds) ms" : ""))
            })
    }
    return all
}
