@testable import Backprop
import Testing

/// `compiled(updating:)`: a step that changes state, with the new state written into the old one's memory when
/// nothing reads the old value afterwards and the caller owns it alone.
@Suite struct CompiledUpdateTests {
    typealias Update = @Sendable (inout [Tensor<Double>], [Tensor<Double>]) -> [Tensor<Double>]

    /// A two-layer network's SGD step: state [w1, b1, w2], inputs [x, y]; returns the loss.
    static let sgdStep: Update = { p, batch in
        let (loss, g) = valueWithGradient(at: p) { p in
            (matmul(tanh(matmul(batch[0], p[0]) + p[1]), p[2]) - batch[1]).squared().mean()
        }
        for i in p.indices { p[i] = p[i] - 0.1 * g[i] }
        return [loss]
    }

    static func network() -> (state: [Tensor<Double>], batch: [Tensor<Double>]) {
        ([uniform([4, 8], -1, 1, seed: 1), uniform([8], -1, 1, seed: 2), uniform([8, 3], -1, 1, seed: 3)],
         [uniform([5, 4], -1, 1, seed: 4), uniform([5, 3], -1, 1, seed: 5)])
    }

    /// The storage address of each tensor.
    static func addresses(_ tensors: [Tensor<Double>]) -> [UnsafePointer<Double>?] {
        tensors.map { t in t.storage.withUnsafeBufferPointer { $0.baseAddress } }
    }

    @Test func stepsEqualEagerAndUpdateInPlace() {
        let step = compiled(updating: Self.sgdStep)
        var (state, batch) = Self.network()
        var eager = state.map { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0 }) }  // storage of its own
        for call in 0..<4 {
            let before = Self.addresses(state)
            let loss = step(&state, batch)
            let eagerLoss = Self.sgdStep(&eager, batch)
            #expect(largestError(loss + state, eagerLoss + eager) <= 1e-12, "call \(call)")
            #expect(Self.addresses(state) == before, "call \(call): every parameter is written where it was")
        }
    }

    @Test func updatesFoldIntoTheirProducts() {
        // w1 ← w1 − 0.1·xᵀδ and w2 ← w2 − 0.1·hᵀδ become products accumulating into the weights (b1's gradient
        // is a sum, not a product, and keeps its kernel).
        let (state, batch) = Self.network()
        let function = CompiledUpdate(Self.sgdStep).function(stateCount: 3).function
        let program = CompiledProgram.trace(function, at: state + batch, stateCount: 3).program
        let folded = program.steps.filter { step in
            if case .matmul(let m) = step { return m.beta == 1 && m.alpha == -0.1 }
            return false
        }
        #expect(folded.count == 2)
    }

    @Test func aCopyOfTheStateKeepsItsValues() {
        let step = compiled(updating: Self.sgdStep)
        var (state, batch) = Self.network()
        _ = step(&state, batch)
        let kept = state, keptValues = state.map(\.scalars)
        let firstKept = state[0]
        _ = step(&state, batch)
        #expect(kept.map(\.scalars) == keptValues, "an array sharing the state's tensors still has the old values")
        #expect(firstKept.scalars == keptValues[0])
        #expect(state[0].scalars != keptValues[0], "the state moved on")
        var eager = kept
        _ = Self.sgdStep(&eager, batch)
        #expect(largestError(state, eager) <= 1e-12)
        // The caller's state owns its memory again: the next step writes in place.
        let before = Self.addresses(state)
        _ = step(&state, batch)
        #expect(Self.addresses(state) == before)
    }

    /// Updates that read the old state after the new one is computed, or at other positions, or that return it.
    static let readers: [(name: String, update: Update)] = [
        ("the old value summed after the update", { p, x in
            let old = p[0]
            p[0] = p[0] * x[0] - 1
            return [old.sum() + p[0].sum()]
        }),
        ("a transposed read", { p, x in
            p[0] = p[0] - p[0].transposed(permutation: [1, 0]) * x[0]
            return [p[0].sum()]
        }),
        ("the old value returned", { p, x in
            let old = p[0]
            p[0] = p[0] + x[0]
            return [old]
        }),
        ("two states, one reading the other's new value", { p, x in
            p[1] = p[1] * 0.9 + x[0]
            p[0] = p[0] - 0.1 * p[1] / (p[1].squared() + 1)
            return [p[1].sum()]
        }),
        ("one kernel storing the new value before it reads the old one again", { p, x in
            let old = p[0]
            p[0] = p[0] + x[0]
            p[1] = old * p[1] - 1
            return []
        }),
        ("the old value read by a product after one that reads the new value", { p, x in
            let old = p[0]
            p[0] = p[0] * 0.5
            let c = matmul(p[0], x[0])
            return [matmul(old, c)]
        }),
        ("a primitive returning the state itself, read after the update", { p, x in
            let same = customPrimitive(at: [p[0]], value: { $0[0] }, vjp: { _, _, g in [g] })
            p[0] = p[0] * 2 + x[0]
            return [matmul(same, x[0])]
        }),
        ("a product reading the state after a kernel updates it", { p, x in
            let product = matmul(p[0], x[0])
            p[0] = exp(p[0]) * 0.5
            return [product + matmul(p[0], x[0])]
        }),
    ]

    @Test(arguments: 0..<readers.count)
    func updatesThatReadTheOldStateEqualEager(case index: Int) {
        let (name, update) = Self.readers[index]
        let step = compiled(updating: update)
        // Rows of 40: several blocks of rows, so a read of another block's old values would see new ones.
        var state = [uniform([40, 40], -1, 1, seed: 11), uniform([40, 40], -1, 1, seed: 12)]
        var eager = state
        let x = [uniform([40, 40], -1, 1, seed: 13)]
        for call in 0..<3 {
            let out = step(&state, x)
            let expected = update(&eager, x)
            #expect(largestError(out + state, expected + eager) <= 1e-12, "\(name), call \(call)")
        }
    }

    @Test func theOldValueReadLaterIsNotOverwritten() {
        // The product reads w after the kernel computing the new w could run: the kernel moves after it, and
        // the update is still in place.
        let step = compiled(updating: { (p: inout [Tensor<Double>], x: [Tensor<Double>]) -> [Tensor<Double>] in
            let product = matmul(x[0], p[0])
            p[0] = p[0] * 0.5
            return [product]
        })
        var state = [uniform([3, 3], -1, 1, seed: 21)]
        let x = [uniform([2, 3], -1, 1, seed: 22)]
        let old = state[0]
        _ = step(&state, x)  // the first call traces; `old` shares the storage, so this call copies
        let expected = matmul(x[0], state[0])
        let before = Self.addresses(state)
        let out = step(&state, x)
        #expect(largestError(out + state, [expected, old * 0.25]) <= 1e-12)
        #expect(Self.addresses(state) == before)
    }

    @Test func aStepUnderGradientIsDifferentiable() {
        let step = compiled(updating: Self.sgdStep)
        let (state, batch) = Self.network()
        func after(_ p: [Tensor<Double>], _ update: (inout [Tensor<Double>], [Tensor<Double>]) -> [Tensor<Double>]) -> Tensor<Double> {
            var s = p
            _ = update(&s, batch)
            return (s[0] * s[0]).sum() + s[2].sum()
        }
        let compiledGradient = gradient(at: state) { after($0, step) }
        let eagerGradient = gradient(at: state) { after($0, Self.sgdStep) }
        #expect(largestError(compiledGradient, eagerGradient) <= 1e-10)
    }

    @Test func aStateOfAnotherShapeStops() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let step = compiled(updating: { (p: inout [Tensor<Double>], _: [Tensor<Double>]) -> [Tensor<Double>] in
                p[0] = p[0].sum(alongAxes: [0])
                return []
            })
            var state = [Tensor<Double>.ones(shape: [2, 2])]
            _ = step(&state, [])
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("compiled(updating:): the update changed the shape of state tensor 0 from [2, 2] to [2]"))
        }
    }
}
