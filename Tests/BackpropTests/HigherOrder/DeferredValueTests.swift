@testable import Backprop
import Testing

/// Deferred values (Engine/DeferredValues.swift): products recorded by a recording sweep are computed only
/// when read, so forward-over-reverse never computes the weight gradients it does not use, and everything
/// that does read them sees the right values.
@Suite struct DeferredValueTests {
    let x = Tensor<Double>(shape: [3, 4], scalars: (0..<12).map { Double($0) / 7 - 0.8 })
    let w1 = Tensor<Double>(shape: [4, 5], scalars: (0..<20).map { Double(($0 * 37) % 11) / 5 - 1 })
    let w2 = Tensor<Double>(shape: [5, 2], scalars: (0..<10).map { Double(($0 * 23) % 7) / 4 - 0.7 })

    /// A two-layer network's loss: both weights are used once, so each one's gradient is one product.
    func loss(_ w: [Tensor<Double>]) -> Tensor<Double> {
        let y = tanh(matmul(tanh(matmul(x, w[0])), w[1]))
        return (y * y).sum()
    }

    func maxDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    @Test func forwardOverReverseLeavesTheWeightGradientsUncomputed() {
        let v = [w1.map { $0 * 0.3 + 0.1 }, w2.map { 1 - $0 }]
        let level = DifferentiationLevel(arguments: [w1, w2])
        defer { level.close() }
        let gradients = level.evaluate { w in gradient(at: w) { loss($0) } }
        let tape = level.tape
        func deferred(_ t: Tensor<Double>) -> DeferredValue<Double>? { tape.deferredValues[t.node] }
        #expect(gradients.allSatisfy { deferred($0) != nil }, "each weight gradient is a deferred product")
        #expect(gradients.allSatisfy { deferred($0)?.isComputed == false })
        // Their tangents need the products' inputs and the inputs' tangents, not the products.
        let hv = level.tangents(of: gradients, along: v)
        #expect(gradients.allSatisfy { deferred($0)?.isComputed == false }, "the tangent sweep read a weight gradient")
        // The same product as the public transform's, which matches central differences of the gradient.
        let expected = hessianVectorProduct(at: [w1, w2], along: v) { loss($0) }
        for (h, e) in zip(hv, expected) { #expect(maxDifference(h, e) < 1e-12) }
        let eps = 1e-6
        let plus = gradient(at: zip([w1, w2], v).map { $0 + eps * $1 }) { loss($0) }
        let minus = gradient(at: zip([w1, w2], v).map { $0 - eps * $1 }) { loss($0) }
        for i in 0..<2 {
            let difference = (plus[i] - minus[i]) / (2 * eps)
            #expect(maxDifference(hv[i], difference) < 1e-6)
        }
        // Reading a deferred gradient computes it, once, and gives the first-order gradient.
        let firstOrder = gradient(at: [w1, w2]) { loss($0) }
        #expect(maxDifference(gradients[0], firstOrder[0]) < 1e-12)
        #expect(deferred(gradients[0])?.isComputed == true)
        #expect(deferred(gradients[1])?.isComputed == false)
    }

    @Test func aSharedWeightsGradientSumStaysDeferred() {
        // w is used twice, so its gradient is the sum of two products: the sum is deferred too.
        let w = Tensor<Double>(shape: [4, 4], scalars: (0..<16).map { Double(($0 * 29) % 13) / 6 - 1 })
        func shared(_ w: [Tensor<Double>]) -> Tensor<Double> {
            let y = tanh(matmul(tanh(matmul(x, w[0])), w[0]))
            return (y * y).sum()
        }
        let v = [w.map { 0.5 - $0 * 0.2 }]
        let level = DifferentiationLevel(arguments: [w])
        defer { level.close() }
        let g = level.evaluate { w in gradient(at: w) { shared($0) } }
        let tape = level.tape
        let hv = level.tangents(of: g, along: v)
        #expect(tape.deferredValues[g[0].node]?.isComputed == false, "the accumulated gradient was computed")
        #expect(maxDifference(hv[0], hessianVectorProduct(at: [w], along: v) { shared($0) }[0]) < 1e-12)
        let eps = 1e-6
        let difference = (gradient(at: w + eps * v[0]) { shared([$0]) } - gradient(at: w - eps * v[0]) { shared([$0]) }) / (2 * eps)
        #expect(maxDifference(hv[0], difference) < 1e-6)
        #expect(maxDifference(g[0], gradient(at: w) { shared([$0]) }) < 1e-12)
    }

    @Test func aDeferredGradientCanBeReadAfterItsTransformReturns() {
        // The inner gradient of sum(x·w) with respect to x is ones·wᵀ, recorded deferred by the outer
        // transform's recording sweep; it escapes the outer function and is read after the tape is released.
        nonisolated(unsafe) var escaped: Tensor<Double>? = nil
        let outer = gradient(at: w1) { w in
            let inner = gradient(at: x) { x in matmul(x, w).sum() }
            escaped = inner
            return (inner * inner).sum()
        }
        let rowSums = (0..<4).map { i in (0..<5).reduce(0.0) { $0 + w1[index: i, $1] } }
        let expected = Tensor<Double>(shape: [3, 4], scalars: (0..<12).map { rowSums[$0 % 4] })
        #expect(escaped.map { maxDifference($0, expected) } == 0)
        // d/dw Σ (Σⱼ w[i, j])² over the three rows = 3 · 2 · rowSum(i) in every column of row i.
        #expect(maxDifference(outer, Tensor(shape: [4, 5], scalars: (0..<20).map { 6 * rowSums[$0 / 5] })) < 1e-12)
    }

    @Test func mutatingADeferredTensorComputesItFirst() {
        nonisolated(unsafe) var escaped: Tensor<Double>? = nil
        _ = gradient(at: w1) { w in
            let inner = gradient(at: x) { x in matmul(x, w).sum() }
            escaped = inner
            return inner.sum()
        }
        guard var copy = escaped else { Issue.record("no inner gradient"); return }
        let before = copy.scalars
        copy.withUnsafeMutableScalars { $0[0] += 1 }
        #expect(copy.scalars[0] == before[0] + 1)
        #expect(Array(copy.scalars.dropFirst()) == Array(before.dropFirst()))
        #expect(escaped?.scalars == before, "the mutation stayed in the copy")
    }

    @Test func tensorsWithNoElementsAreNotMistakenForDeferredOnes() {
        let empty = Tensor<Double>(shape: [0, 4], scalars: [])
        let g = gradient(at: w1) { w in
            let product = matmul(empty, w)
            #expect(product.shape == [0, 5] && product.scalarCount == 0 && product.scalars.isEmpty)
            return product.sum() + w.sum()
        }
        #expect(g.scalars == [Double](repeating: 1, count: 20))
    }
}

extension Tensor {
    /// The tensor with `transform` applied to each element (untracked), for building test directions.
    fileprivate func map(_ transform: (Scalar) -> Scalar) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(transform))
    }
}
