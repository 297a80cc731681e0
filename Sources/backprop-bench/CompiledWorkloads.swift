import Backprop
import Foundation

/// The compiled versions of workloads of issue #10 (issue #20): the same function through `compiled`, timed
/// after the first call (which traces and compiles; its time is printed as the detail).
func compiledWorkloads() -> [String: BenchWorkload] {
    var all: [String: BenchWorkload] = [:]
    var compileMilliseconds = 0.0
    all["elementary-f64-compiled"] = BenchWorkload(
        name: "elementary-f64-compiled", runs: 10, warmUp: 2,
        prepare: {
            let x = Tensor<Double>.randomUniform(shape: [1_000_000], lowerBound: 0.1, upperBound: 3, seed: 5)
            let step = compiled { (x: Tensor<Double>) -> Tensor<Double> in gradient(at: x) { elementaryChain($0) } }
            compileMilliseconds = milliseconds { _ = step(x) }
            return { step(x)[index: 12345] }
        },
        check: { last in checkElementaryChain(last, compileMilliseconds: compileMilliseconds) })
    all["broadcast-f64-compiled"] = BenchWorkload(
        name: "broadcast-f64-compiled", runs: 10, warmUp: 2,
        prepare: {
            let x = Tensor<Double>.randomNormal(shape: [1, 1000, 64], seed: 1)
            let mu = Tensor<Double>.randomNormal(shape: [100, 1, 64], seed: 2)
            let step = compiled { (mu: Tensor<Double>) -> Tensor<Double> in
                gradient(at: mu) { mu in
                    let d = x - mu
                    return log(exp(-(d * d)).sum(alongAxes: 2)).sum()
                }
            }
            compileMilliseconds = milliseconds { _ = step(mu) }
            return { step(mu)[index: 3, 0, 5] }
        },
        check: { last in
            let x = Tensor<Double>.randomNormal(shape: [1, 1000, 64], seed: 1).scalars
            let mu = Tensor<Double>.randomNormal(shape: [100, 1, 64], seed: 2).scalars
            var exact = 0.0
            for n in 0..<1000 {
                var total = 0.0
                for j in 0..<64 { let d = x[n * 64 + j] - mu[3 * 64 + j]; total += Double.exp(-d * d) }
                let d = x[n * 64 + 5] - mu[3 * 64 + 5]
                exact += 2 * d * Double.exp(-d * d) / total
            }
            return (Swift.abs(last - exact) <= 1e-9 * Swift.max(1, Swift.abs(exact)),
                    "∂L/∂mu[3,0,5] = \(last), by loops \(exact); trace and compile \(compileMilliseconds) ms")
        })
    all["attention-block-compiled"] = BenchWorkload(
        name: "attention-block-compiled", runs: 10, warmUp: 2,
        prepare: {
            let block = BenchAttentionBlock()
            let step = compiled { (p: [Tensor<Float>]) -> [Tensor<Float>] in
                let (value, g) = valueWithGradient(at: p) { block.loss($0) }
                return [value] + g
            }
            compileMilliseconds = milliseconds { _ = step(block.parameters) }
            return {
                let out = step(block.parameters)
                return Double(out[0].scalar)
            }
        },
        check: { last in (last.isFinite, "mean output \(last); trace and compile \(compileMilliseconds) ms") })
    all["mlp-step-compiled"] = BenchWorkload(
        name: "mlp-step-compiled", runs: 40, warmUp: 5,
        prepare: {
            let mlp = BenchMLP()
            // The whole step compiled: forward, backward and the SGD update (lr 0.01), the parameters updated in
            // place (`compiled(updating:)`).
            let step = compiled(updating: { (p: inout [Tensor<Float>], _: [Tensor<Float>]) -> [Tensor<Float>] in
                let (value, g) = valueWithGradient(at: p) { mlp.loss($0) }
                for i in p.indices { p[i] = p[i] - 0.01 * g[i] }
                return [value]
            })
            compileMilliseconds = milliseconds { _ = step(&mlp.parameters, []) }
            return { Double(step(&mlp.parameters, [])[0].scalar) }
        },
        check: { last in (last < 2.3, "loss after 45 SGD steps \(last); trace and compile \(compileMilliseconds) ms") })
    // Diagnostic: a 64 MB state (4096 x 4096 floats) updated by a compiled step, in place (`compiled(updating:)`)
    // and as a function returning the new state in new memory.
    all["state-update-in-place"] = BenchWorkload(
        name: "state-update-in-place", runs: 20, warmUp: 2,
        prepare: {
            var state = [Tensor<Float>.randomUniform(shape: [4096, 4096], seed: 1)]
            let x = [Tensor<Float>.randomUniform(shape: [4096, 4096], seed: 2)]
            let step = compiled(updating: { (p: inout [Tensor<Float>], x: [Tensor<Float>]) -> [Tensor<Float>] in
                p[0] = p[0] * 0.5 + x[0]
                return [p[0].sum()]
            })
            return { Double(step(&state, x)[0].scalar) }
        },
        check: { last in (Swift.abs(last / 16_777_216 - 1) < 0.05, "the state's sum, near its fixed point's (2x, mean 1): \(last)") })
    all["state-update-new-arrays"] = BenchWorkload(
        name: "state-update-new-arrays", runs: 20, warmUp: 2,
        prepare: {
            var state = Tensor<Float>.randomUniform(shape: [4096, 4096], seed: 1)
            let x = Tensor<Float>.randomUniform(shape: [4096, 4096], seed: 2)
            let step = compiled { (a: [Tensor<Float>]) -> [Tensor<Float>] in
                let p = a[0] * 0.5 + a[1]
                return [p, p.sum()]
            }
            return {
                let out = step([state, x])
                state = out[0]
                return Double(out[1].scalar)
            }
        },
        check: { last in (Swift.abs(last / 16_777_216 - 1) < 0.05, "the state's sum, near its fixed point's (2x, mean 1): \(last)") })
    // Diagnostic: the split `ClassifierTrainer` uses, loss and gradients compiled and the update done in place on
    // the host as `mlp-step` does; `mlp-step-compiled` compiles the update too.
    all["mlp-step-compiled-gradients"] = BenchWorkload(
        name: "mlp-step-compiled-gradients", runs: 40, warmUp: 5,
        prepare: {
            let mlp = BenchMLP()
            let step = compiled { (p: [Tensor<Float>]) -> [Tensor<Float>] in
                let (value, g) = valueWithGradient(at: p) { mlp.loss($0) }
                return [value] + g
            }
            compileMilliseconds = milliseconds { _ = step(mlp.parameters) }
            return {
                let out = step(mlp.parameters)
                sgdUpdate(&mlp.parameters, Array(out.dropFirst()), learningRate: 0.01)
                return Double(out[0].scalar)
            }
        },
        check: { last in (last < 2.3, "loss after 45 SGD steps \(last); trace and compile \(compileMilliseconds) ms") })
    all["cnn-step-compiled"] = BenchWorkload(
        name: "cnn-step-compiled", runs: 40, warmUp: 5,
        prepare: {
            let cnn = BenchCNN()
            let step = compiled(updating: { (p: inout [Tensor<Float>], _: [Tensor<Float>]) -> [Tensor<Float>] in
                let (value, g) = valueWithGradient(at: p) { cnn.loss($0) }
                for i in p.indices { p[i] = p[i] - 0.01 * g[i] }
                return [value]
            })
            compileMilliseconds = milliseconds { _ = step(&cnn.parameters, []) }
            return { Double(step(&cnn.parameters, [])[0].scalar) }
        },
        check: { last in (last.isFinite && last < 2.35, "loss after 45 SGD steps \(last); trace and compile \(compileMilliseconds) ms") })
    all["hvp-mlp-compiled"] = BenchWorkload(
        name: "hvp-mlp-compiled", runs: 20, warmUp: 3,
        prepare: {
            let mlp = BenchMLP()
            var generator = SeededGenerator(seed: 7)
            let v = mlp.parameters.map { Tensor<Float>.randomNormal(shape: $0.shape, using: &generator) }
            let count = v.count
            let product = compiled { (a: [Tensor<Float>]) -> [Tensor<Float>] in
                hessianVectorProduct(at: Array(a[0..<count]), along: Array(a[count...])) { mlp.loss($0) }
            }
            compileMilliseconds = milliseconds { _ = product(mlp.parameters + v) }
            return { Double(product(mlp.parameters + v)[2][index: 0, 0]) }
        },
        check: { last in
            let mlp = BenchMLP()
            var generator = SeededGenerator(seed: 7)
            let v = mlp.parameters.map { Tensor<Float>.randomNormal(shape: $0.shape, using: &generator) }
            let eager = Double(mlp.hessianVectorProduct(along: v)[2][index: 0, 0])
            let agrees = Swift.abs(eager - last) <= 1e-3 * Swift.max(1, Swift.abs(eager))
            return (agrees, "Hv[2][0,0] = \(last), eager \(eager); trace and compile \(compileMilliseconds) ms")
        })
    return all
}

/// The wall time of `body` in milliseconds.
func milliseconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}
