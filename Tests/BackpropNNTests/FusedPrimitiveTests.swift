import Testing
@testable import BackpropNN

/// The fused primitives (layer normalisation, GELU, attention) against the compositions they replace:
/// the same values and the same first-order gradients in float64 (higher orders go through the composition
/// itself; the derivative tables check them).
@Suite struct FusedPrimitiveTests {
    func expectSame(_ name: String, _ inputs: [Tensor<Double>], fused: @escaping ([Tensor<Double>]) -> Tensor<Double>, reference: @escaping ([Tensor<Double>]) -> Tensor<Double>) {
        let a = fused(inputs), b = reference(inputs)
        #expect(largestDifference(a, b) < 1e-13, "\(name) value")
        let weights = Tensor<Double>.randomNormal(shape: a.shape, seed: 3)
        let ga = gradient(at: inputs) { (fused($0) * weights).sum() }
        let gb = gradient(at: inputs) { (reference($0) * weights).sum() }
        for (index, (x, y)) in zip(ga, gb).enumerated() { #expect(largestDifference(x, y) < 1e-12, "\(name) gradient \(index)") }
    }

    @Test func layerNormMatchesItsComposition() {
        let x = Tensor<Double>.randomNormal(shape: [3, 4, 6], mean: 0.3, standardDeviation: 2, seed: 1)
        let w = Tensor<Double>.randomNormal(shape: [6], seed: 2), b = Tensor<Double>.randomNormal(shape: [6], seed: 4)
        expectSame("affine", [x, w, b], fused: { fusedLayerNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5) },
                   reference: { layerNormReference($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5) })
        expectSame("weight only", [x, w], fused: { fusedLayerNorm($0[0], weight: $0[1], bias: nil, epsilon: 1e-3) },
                   reference: { layerNormReference($0[0], weight: $0[1], bias: nil, epsilon: 1e-3) })
        expectSame("plain", [x], fused: { fusedLayerNorm($0[0], weight: nil, bias: nil, epsilon: 0.1) },
                   reference: { layerNormReference($0[0], weight: nil, bias: nil, epsilon: 0.1) })
    }

    @Test func geluMatchesItsComposition() {
        let x = Tensor<Double>.randomNormal(shape: [5, 7], standardDeviation: 3, seed: 5)
        expectSame("gelu", [x], fused: { fusedGELU($0[0]) }, reference: { geluReference($0[0]) })
    }

    @Test func attentionMatchesItsComposition() {
        let q = Tensor<Double>.randomNormal(shape: [2, 5, 6], standardDeviation: 2, seed: 6)
        let k = Tensor<Double>.randomNormal(shape: [2, 5, 6], standardDeviation: 2, seed: 7)
        let v = Tensor<Double>.randomNormal(shape: [2, 5, 6], seed: 8)
        for causal in [true, false] {
            expectSame("attention, causal \(causal)", [q, k, v], fused: { fusedAttention(query: $0[0], key: $0[1], value: $0[2], heads: 3, isCausal: causal) },
                       reference: { attentionReference($0[0], $0[1], $0[2], heads: 3, isCausal: causal) })
        }
        // Queries attending to a longer sequence of keys.
        let keys = Tensor<Double>.randomNormal(shape: [2, 7, 6], seed: 9), values = Tensor<Double>.randomNormal(shape: [2, 7, 6], seed: 10)
        expectSame("cross attention", [q, keys, values], fused: { fusedAttention(query: $0[0], key: $0[1], value: $0[2], heads: 2, isCausal: false) },
                   reference: { attentionReference($0[0], $0[1], $0[2], heads: 2, isCausal: false) })
    }
}
