import Backprop
import BackpropNN

// Diagnostic workloads, not of WORKLOADS.md: what finding a model's parameters by reflection costs
// (docs/models.md), against a hand-written list, a Mirror walk and the training step it serves.

/// The digits MLP of `backprop train`: 64-128-10, ReLU.
private func digitsMLP() -> Sequential<Float> { .multilayerPerceptron(widths: [64, 128, 10], seed: 0) }

/// A transformer-shaped model of plain structs, 12 blocks deep: 195 tensors, found by reflection.
private struct BenchAttention {
    var query, key, value, output: Linear<Float>
}
private struct BenchBlock {
    var attention: BenchAttention
    var norm1, norm2: LayerNorm<Float>
    var feedForward: Sequential<Float>
}
private struct BenchDeepModel: Layer {
    var embedding: Embedding<Float>
    var blocks: [BenchBlock]
    var head: Linear<Float>
    var vocabulary = [String](repeating: "token", count: 5000)

    init() {
        var generator = SeededGenerator(seed: 0)
        func linear(_ i: Int, _ o: Int) -> Linear<Float> { Linear(inputSize: i, outputSize: o, using: &generator) }
        embedding = Embedding(count: 100, dimension: 32, generator: &generator)
        blocks = (0..<12).map { _ in
            BenchBlock(
                attention: BenchAttention(query: linear(32, 32), key: linear(32, 32), value: linear(32, 32), output: linear(32, 32)),
                norm1: LayerNorm(size: 32), norm2: LayerNorm(size: 32),
                feedForward: Sequential(linear(32, 64), ReLU(), linear(64, 32)))
        }
        head = linear(32, 100)
    }

    func callAsFunction(_ input: Tensor<Float>, context: ForwardContext) -> Tensor<Float> { head(input) }
}

/// The MLP's two layers with the list written by hand, as every layer had to before.
private struct HandWrittenMLP {
    var first: Linear<Float>
    var second: Linear<Float>

    var parameters: [Tensor<Float>] {
        get { [first.weight, first.bias!, second.weight, second.bias!] }
        set {
            precondition(newValue.count == 4 && newValue[0].shape == first.weight.shape && newValue[2].shape == second.weight.shape)
            first.weight = newValue[0]
            first.bias = newValue[1]
            second.weight = newValue[2]
            second.bias = newValue[3]
        }
    }
}

/// The tensors of a value found with `Mirror` (reading only: a Mirror cannot write back).
private func mirroredTensors(_ value: Any, into tensors: inout [Tensor<Float>]) {
    if let tensor = value as? Tensor<Float> {
        tensors.append(tensor)
        return
    }
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional {
        if let wrapped = mirror.children.first { mirroredTensors(wrapped.value, into: &tensors) }
        return
    }
    for child in mirror.children { mirroredTensors(child.value, into: &tensors) }
}

/// `count` rounds of reading the parameters and writing them back into a copy; returns the tensors seen.
private func flattenRounds<M: Module>(_ model: M, count: Int) -> () -> Double where M.Scalar == Float {
    {
        var last = model
        for _ in 0..<count { last = model.replacingParameters(with: model.parameters) }
        return Double(last.parameters.count)
    }
}

func moduleWorkloads() -> [String: BenchWorkload] {
    var all: [String: BenchWorkload] = [:]
    let rounds = 1000
    all["module-flatten-mlp"] = BenchWorkload(
        name: "module-flatten-mlp", runs: 20, warmUp: 2, prepare: { flattenRounds(digitsMLP(), count: rounds) },
        check: { last in (last == 4, "\(rounds) rounds of parameters + replacingParameters(with:) on the 64-128-10 MLP, \(last) tensors each") })
    all["module-flatten-deep"] = BenchWorkload(
        name: "module-flatten-deep", runs: 20, warmUp: 2, prepare: { flattenRounds(BenchDeepModel(), count: rounds) },
        check: { last in (last == 195, "\(rounds) rounds on a 12-block model of plain structs, \(last) tensors each") })
    all["module-mirror-mlp"] = BenchWorkload(
        name: "module-mirror-mlp", runs: 20, warmUp: 2,
        prepare: {
            let model = digitsMLP()
            return {
                var count = 0
                for _ in 0..<rounds {
                    var tensors: [Tensor<Float>] = []
                    mirroredTensors(model, into: &tensors)
                    count += tensors.count
                }
                return Double(count / rounds)
            }
        },
        check: { last in (last == 4, "\(rounds) Mirror walks of the MLP (reading only), \(last) tensors each") })
    all["module-handwritten-mlp"] = BenchWorkload(
        name: "module-handwritten-mlp", runs: 20, warmUp: 2,
        prepare: {
            let layers = digitsMLP().layers
            let model = HandWrittenMLP(first: layers[0] as! Linear<Float>, second: layers[2] as! Linear<Float>)
            return {
                var count = 0
                for _ in 0..<rounds {
                    var copy = model
                    copy.parameters = model.parameters
                    count += copy.parameters.count
                }
                return Double(count / rounds)
            }
        },
        check: { last in (last == 4, "\(rounds) rounds of a hand-written get and set, \(last) tensors each") })
    all["module-digits-step"] = BenchWorkload(
        name: "module-digits-step", runs: 200, warmUp: 20,
        prepare: {
            var model = digitsMLP()
            var optimizer = Adam<Float>()
            let x = Tensor<Float>.randomNormal(shape: [32, 64], seed: 1)
            let labels = (0..<32).map { $0 % 10 }
            return {
                let (loss, gradient) = valueWithGradient(at: model) { m in softmaxCrossEntropy(logits: m(x), labels: labels) }
                optimizer.update(&model, along: gradient)
                return Double(loss.scalar)
            }
        },
        check: { last in (last.isFinite && last < 2.3, "one Adam step of the MLP on a batch of 32: loss \(last)") })
    all["module-digits-step-tensors"] = BenchWorkload(
        name: "module-digits-step-tensors", runs: 200, warmUp: 20,
        prepare: {
            // The same step on the same parameters held as a plain array, the MLP written out by hand.
            var parameters = digitsMLP().parameters
            var optimizer = Adam<Float>()
            let x = Tensor<Float>.randomNormal(shape: [32, 64], seed: 1)
            let labels = (0..<32).map { $0 % 10 }
            return {
                let (loss, gradients) = valueWithGradient(at: parameters) { p in
                    let hidden = relu(matmul(x, p[0], transposeB: true) + p[1])
                    return softmaxCrossEntropy(logits: matmul(hidden, p[2], transposeB: true) + p[3], labels: labels)
                }
                optimizer.update(&parameters, along: gradients)
                return Double(loss.scalar)
            }
        },
        check: { last in (last.isFinite && last < 2.3, "one Adam step of the hand-written MLP on a batch of 32: loss \(last)") })
    return all
}
