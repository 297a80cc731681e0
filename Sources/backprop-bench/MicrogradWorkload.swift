import Backprop
import BackpropCommandLine
import Foundation

/// The name of micrograd's demo workload, the one that reads a data set.
let microgradWorkloadName = "micrograd-mlp"

/// The two-moons data set of micrograd's demo: 100 points in the plane, labelled -1 or +1.
struct MoonsData {
    /// The points (x1, x2).
    var points: [(Double, Double)]
    /// Each point's label, -1 or +1.
    var labels: [Double]

    /// The copy bundled with `backprop-bench`: scikit-learn's `make_moons(n_samples=100, noise=0.1,
    /// random_state=1)`, the data set of micrograd's demo.
    static var bundledFile: URL { Bundle.module.url(forResource: "moons", withExtension: "csv")! }

    /// Reads a CSV file with the header `x1,x2,label` and one point a line.
    ///
    /// Throws a `UserError` naming the file when it cannot be read, and the line when one is not three numbers.
    init(contentsOf file: URL) throws {
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw UserError("cannot read the moons data set '\(file.path)' (\(error.localizedDescription)); give one with --moons, or leave it out to use the bundled copy")
        }
        points = []
        labels = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().dropFirst() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let fields = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard fields.count == 3, let x1 = fields[0], let x2 = fields[1], let label = fields[2], x1.isFinite, x2.isFinite, label == 1 || label == -1 else {
                throw UserError("\(file.path), line \(index + 1): expected x1,x2,label with label -1 or 1, got '\(trimmed)'")
            }
            points.append((x1, x2))
            labels.append(label)
        }
        guard !points.isEmpty else { throw UserError("\(file.path): no points after the header line") }
    }
}

/// micrograd's demo step on the moons data with every weight its own scalar node.
final class BenchScalarMLP {
    var parameters: [Tensor<Double>]
    let rows: [(Double, Double)]
    let labels: [Double]
    let widths = [2, 16, 16, 1]

    init(moons: MoonsData) {
        self.rows = moons.points
        self.labels = moons.labels
        var generator = SeededGenerator(seed: 1337)
        var parameters: [Tensor<Double>] = []
        for (fanIn, fanOut) in zip(widths, widths.dropFirst()) {
            for _ in 0..<fanOut {
                for _ in 0..<fanIn { parameters.append(Tensor(2 * generator.nextUnit() - 1)) }
                parameters.append(Tensor(0))
            }
        }
        self.parameters = parameters
    }

    func loss(_ p: [Tensor<Double>]) -> Tensor<Double> {
        var total = Tensor<Double>(0)
        for (row, label) in zip(rows, labels) {
            var activations = [Tensor(row.0), Tensor(row.1)]
            var k = 0
            for (layer, (fanIn, fanOut)) in zip(widths, widths.dropFirst()).enumerated() {
                var next: [Tensor<Double>] = []
                next.reserveCapacity(fanOut)
                for _ in 0..<fanOut {
                    var sum = p[k + fanIn]
                    for i in 0..<fanIn { sum = sum + p[k + i] * activations[i] }
                    k += fanIn + 1
                    next.append(layer == widths.count - 2 ? sum : relu(sum))
                }
                activations = next
            }
            total = total + relu(1 - label * activations[0])
        }
        var penalty = Tensor<Double>(0)
        for q in p { penalty = penalty + q * q }
        return total * (1 / Double(rows.count)) + 1e-4 * penalty
    }

    func step() -> Double {
        let (value, gradients) = valueWithGradient(at: parameters) { loss($0) }
        for i in parameters.indices { parameters[i] = Tensor(parameters[i].scalar - 0.01 * gradients[i].scalar) }
        return value.scalar
    }
}

/// The micrograd-mlp workload on `moons`: forward, backward and an SGD step of the scalar-node MLP.
func microgradWorkload(moons: MoonsData) -> BenchWorkload {
    BenchWorkload(
        name: microgradWorkloadName, runs: 5, warmUp: 1,
        prepare: { BenchScalarMLP(moons: moons).step },
        check: { last in (last.isFinite && last < 1.2, "loss after 6 SGD steps \(last) (1.396 before the first step)") })
}
