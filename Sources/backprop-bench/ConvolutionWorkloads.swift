import Backprop
import Foundation

// Workloads of issue #12 (convolutional networks): one training step of a small CNN on MNIST-sized images.

/// The CNN of cnn-step: conv 3×3 1→16 (padding 1), ReLU, max-pool 2, conv 3×3 16→32 (padding 1), ReLU,
/// max-pool 2, flatten, linear 1568→128, ReLU, linear 128→10; batch 64 of 1×28×28 float32.
final class BenchCNN {
    let batch = 64
    var parameters: [Tensor<Float>]
    let x: Tensor<Float>
    let labels: [Int]

    init() {
        var generator = SeededGenerator(seed: 0)
        x = Tensor.randomNormal(shape: [64, 1, 28, 28], using: &generator)
        labels = (0..<64).map { _ in Int(generator.next() % 10) }
        func uniform(_ shape: [Int], fanIn: Int) -> Tensor<Float> {
            let bound = Float(1 / Double(fanIn).squareRoot())
            return Tensor.randomUniform(shape: shape, lowerBound: -bound, upperBound: bound, using: &generator)
        }
        parameters = [
            uniform([16, 1, 3, 3], fanIn: 9), uniform([16], fanIn: 9),
            uniform([32, 16, 3, 3], fanIn: 144), uniform([32], fanIn: 144),
            uniform([128, 1568], fanIn: 1568), uniform([128], fanIn: 1568),
            uniform([10, 128], fanIn: 128), uniform([10], fanIn: 128),
        ]
    }

    func loss(_ p: [Tensor<Float>]) -> Tensor<Float> {
        var h = maxPool2d(relu(conv2d(x, weight: p[0], bias: p[1], padding: (1, 1))), kernel: (2, 2))
        h = maxPool2d(relu(conv2d(h, weight: p[2], bias: p[3], padding: (1, 1))), kernel: (2, 2))
        let flat = h.reshaped(to: [batch, 1568])
        let hidden = relu(matmul(flat, p[4], transposeB: true) + p[5])
        return (matmul(hidden, p[6], transposeB: true) + p[7]).softmaxCrossEntropy(labels: labels)
    }

    /// Forward, backward and a plain SGD update (lr 0.01); returns the loss before the update.
    func step() -> Double {
        let (value, gradients) = valueWithGradient(at: parameters) { loss($0) }
        sgdUpdate(&parameters, gradients, learningRate: 0.01)
        return Double(value.scalar)
    }
}

/// The convolutional workloads by name.
func convolutionWorkloads() -> [String: BenchWorkload] {
    var all: [String: BenchWorkload] = [:]
    all["cnn-step"] = BenchWorkload(
        name: "cnn-step", runs: 40, warmUp: 5,
        prepare: {
            let cnn = BenchCNN()
            return cnn.step
        },
        check: { last in (last.isFinite && last < 2.3, "loss after 45 SGD steps \(last) (ln 10 ≈ 2.303 at initialisation)") })
    // Diagnostic, not a peer workload: the pieces of cnn-step's layers one at a time, printed as medians,
    // to see where a step goes. The convolutions' backward pieces are their pullbacks (input and weight
    // gradients, computed image by image as conv2d does).
    let pieces = PieceTimes()
    all["cnn-pieces"] = BenchWorkload(
        name: "cnn-pieces", runs: 20, warmUp: 2,
        prepare: {
            let cnn = BenchCNN()
            let a = withoutRecording { relu(conv2d(cnn.x, weight: cnn.parameters[0], bias: cnn.parameters[1], padding: (1, 1))) }
            let pooled = withoutRecording { maxPool2d(a, kernel: (2, 2)) }
            let w2 = cnn.parameters[2], b2 = cnn.parameters[3]
            return {
                pieces.time("conv1 forward") { _ = withoutRecording { conv2d(cnn.x, weight: cnn.parameters[0], bias: cnn.parameters[1], padding: (1, 1)) } }
                pieces.time("conv2 forward") { _ = withoutRecording { conv2d(pooled, weight: w2, bias: b2, padding: (1, 1)) } }
                let (y2, pullback) = valueWithPullback(at: pooled, w2) { conv2d($0, weight: $1, bias: b2, padding: (1, 1)) }
                pieces.time("conv2 input and weight gradients") { _ = pullback(y2) }
                pieces.time("pool1") { _ = withoutRecording { maxPool2d(a, kernel: (2, 2)) } }
                pieces.time("relu1") { _ = withoutRecording { relu(a) } }
                return 0
            }
        },
        check: { _ in (true, "medians (ms): " + pieces.medians) })
    return all
}

/// Times of named pieces across runs, for the cnn-pieces diagnostic.
final class PieceTimes {
    private var times: [String: [Double]] = [:]

    /// Runs `body` and records its time under `name`.
    func time(_ name: String, _ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times[name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }

    /// Each piece's median, in milliseconds, sorted by name.
    var medians: String {
        times.sorted { $0.key < $1.key }.map { name, values in
            "\(name) \(String(format: "%.3f", values.sorted()[values.count / 2]))"
        }.joined(separator: ", ")
    }
}
