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
    // Diagnostic, not a peer workload: the forward pass's pieces one at a time, to see where a step goes.
    all["cnn-pieces"] = BenchWorkload(
        name: "cnn-pieces", runs: 20, warmUp: 2,
        prepare: {
            let cnn = BenchCNN()
            let a = withoutRecording { relu(conv2d(cnn.x, weight: cnn.parameters[0], bias: cnn.parameters[1], padding: (1, 1))) }
            return {
                var times: [String: Double] = [:]
                func time(_ name: String, _ body: () -> Void) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    body()
                    times[name] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                }
                time("conv1") { _ = withoutRecording { conv2d(cnn.x, weight: cnn.parameters[0], bias: cnn.parameters[1], padding: (1, 1)) } }
                time("unfold1") { _ = withoutRecording { cnn.x.unfoldingPatches(WindowGeometry(kernel: (3, 3), padding: (1, 1))) } }
                time("pool1") { _ = withoutRecording { maxPool2d(a, kernel: (2, 2)) } }
                time("relu1") { _ = withoutRecording { relu(a) } }
                let w1 = Tensor<Float>.randomNormal(shape: [16, 9], seed: 1), p1 = Tensor<Float>.randomNormal(shape: [9, 50176], seed: 2)
                let g1 = Tensor<Float>.randomNormal(shape: [16, 50176], seed: 3)
                let w2 = Tensor<Float>.randomNormal(shape: [32, 144], seed: 4), p2 = Tensor<Float>.randomNormal(shape: [144, 12544], seed: 5)
                let g2 = Tensor<Float>.randomNormal(shape: [32, 12544], seed: 6)
                time("gemm conv1 fwd") { _ = matmul(w1, p1) }
                time("gemm conv1 dW") { _ = matmul(g1, p1, transposeB: true) }
                time("gemm conv2 fwd") { _ = matmul(w2, p2) }
                time("gemm conv2 dW") { _ = matmul(g2, p2, transposeB: true) }
                time("gemm conv2 dP") { _ = matmul(w2, g2, transposeA: true) }
                let p2batched = Tensor<Float>.randomNormal(shape: [64, 144, 196], seed: 7)
                time("gemm conv2 fwd, batched NCHW") { _ = matmul(w2, p2batched) }
                let p1batched = Tensor<Float>.randomNormal(shape: [64, 9, 784], seed: 8)
                time("gemm conv1 fwd, batched NCHW") { _ = matmul(w1, p1batched) }
                time("gemm conv1 fwd, patches as rows") { _ = matmul(p1, w1, transposeA: true, transposeB: true) }
                time("gemm conv2 fwd, patches as rows") { _ = matmul(p2, w2, transposeA: true, transposeB: true) }
                let p2rows = p2.transposed(), g2rows = g2.transposed()
                time("gemm conv2 fwd, row patches stored") { _ = matmul(p2rows, w2, transposeB: true) }
                time("gemm conv2 dW, row patches stored") { _ = matmul(g2rows, p2rows, transposeA: true) }
                time("gemm conv2 dP, row patches stored") { _ = matmul(g2rows, w2) }
                time("transpose conv2 out") { _ = g2.reshaped(to: [32, 64, 196]).transposed(permutation: [1, 0, 2]) }
                time("transpose conv1 out") { _ = g1.reshaped(to: [16, 64, 784]).transposed(permutation: [1, 0, 2]) }
                print(times.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))" }.joined(separator: "  "))
                return 0
            }
        },
        check: { _ in (true, "diagnostic") })
    return all
}
