import Foundation
import Testing
@testable import BackpropNN

/// `MultiHeadAttention`, `TransformerBlock`, `gelu` and `PositionalEmbedding` against PyTorch (committed
/// fixtures of scripts/make_sequence_fixtures.py) and by hand.
@Suite struct AttentionLayerTests {
    /// Compares `outputs` with the fixture's expected values, and the gradients of the fixture's loss with
    /// respect to the parameters and `inputs` (named `input.<name>`) with PyTorch's.
    func check<L: Layer<Float>>(
        _ fixture: SequenceFixture, _ layer: L, inputs: [(String, Tensor<Float>)], tolerance: Double = 1e-5,
        run: @escaping (L, [Tensor<Float>]) -> [String: Tensor<Float>]
    ) throws {
        for (key, value) in run(layer, inputs.map(\.1)) {
            #expect(largestDifference(value, try fixture.tensor("expected." + key)) < tolerance, "\(key)")
        }
        let count = layer.parameters.count
        let gradients = gradient(at: layer.parameters + inputs.map(\.1)) { values in
            var model = layer
            model.parameters = Array(values.prefix(count))
            return try! fixture.loss(run(model, Array(values.dropFirst(count))))
        }
        for (name, value) in zip(layer.parameterNames + inputs.map { "input." + $0.0 }, gradients) {
            #expect(largestDifference(value, try fixture.tensor("grad." + name)) < tolerance, "gradient of \(name)")
        }
    }

    @Test func multiHeadAttentionWithMasksMatchesPyTorch() throws {
        let fixture = try SequenceFixture("mha")
        var generator = SeededGenerator(seed: 1)
        var layer = MultiHeadAttention<Float>(embedDimension: 8, headCount: 2, using: &generator)
        #expect(layer.parameterNames == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        try fixture.checkpoint.apply(to: &layer)
        // The fixture stores the padding as PyTorch's float mask: −∞ at padding, 0 elsewhere.
        let flags = try fixture.tensor("input.key_padding_mask").scalars.map { $0 != 0 }
        let padding = [Array(flags[0..<5]), Array(flags[5..<10])]
        #expect(padding[0] == [false, false, false, true, true])
        let mask = try fixture.tensor("input.attention_mask")
        try check(
            fixture, layer,
            inputs: [("query", try fixture.tensor("input.query")), ("key", try fixture.tensor("input.key")), ("value", try fixture.tensor("input.value"))]
        ) { layer, v in
            let (output, weights) = layer.attend(
                query: v[0], key: v[1], value: v[2], keyPaddingMask: padding, attentionMask: mask, isCausal: false,
                context: ForwardContext(mode: .evaluation), needsWeights: true)
            return ["output": output, "weights": weights!.mean(alongAxes: 1)]
        }
        // The public entry points give the same numbers.
        let query = try fixture.tensor("input.query"), key = try fixture.tensor("input.key")
        let output = layer(query: query, key: key, value: try fixture.tensor("input.value"), keyPaddingMask: padding, attentionMask: mask)
        #expect(largestDifference(output, try fixture.tensor("expected.output")) < 1e-5)
        let weights = layer.attentionWeights(query: query, key: key, keyPaddingMask: padding, attentionMask: mask)
        #expect(largestDifference(weights, try fixture.tensor("expected.weights")) < 1e-5)
    }

    @Test func causalSelfAttentionMatchesPyTorch() throws {
        let fixture = try SequenceFixture("mha_causal")
        var generator = SeededGenerator(seed: 2)
        var layer = MultiHeadAttention<Float>(embedDimension: 8, headCount: 2, using: &generator)
        try fixture.checkpoint.apply(to: &layer)
        try check(fixture, layer, inputs: [("x", try fixture.tensor("input.x"))]) { layer, v in
            let (output, weights) = layer.attend(
                query: v[0], key: v[0], value: v[0], keyPaddingMask: nil, attentionMask: nil, isCausal: true,
                context: ForwardContext(mode: .evaluation), needsWeights: true)
            return ["output": output, "weights": weights!.mean(alongAxes: 1)]
        }
        // Without the weights the heads run fused: the same output, and the same gradients as the composition.
        let x = try fixture.tensor("input.x"), u = try fixture.tensor("loss.output")
        #expect(largestDifference(layer(query: x, key: x, value: x, isCausal: true), try fixture.tensor("expected.output")) < 1e-5)
        let count = layer.parameters.count
        func loss(_ values: [Tensor<Float>], fused: Bool) -> Tensor<Float> {
            var model = layer
            model.parameters = Array(values.prefix(count))
            let v = values[count]
            let output = model.attend(
                query: v, key: v, value: v, keyPaddingMask: nil, attentionMask: nil, isCausal: true,
                context: ForwardContext(mode: .evaluation), needsWeights: !fused).output
            return (output * u).sum()
        }
        let fused = gradient(at: layer.parameters + [x]) { loss($0, fused: true) }
        let composed = gradient(at: layer.parameters + [x]) { loss($0, fused: false) }
        for (a, b) in zip(fused, composed) { #expect(largestDifference(a, b) < 1e-5) }
    }

    @Test func transformerBlockMatchesPyTorchsPreNormEncoderLayer() throws {
        let fixture = try SequenceFixture("transformer_block")
        var generator = SeededGenerator(seed: 3)
        var block = TransformerBlock<Float>(width: 8, headCount: 2, feedForwardWidth: 32, isCausal: true, using: &generator)
        #expect(block.parameterNames == [
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        ])
        try fixture.checkpoint.apply(to: &block)
        try check(fixture, block, inputs: [("x", try fixture.tensor("input.x"))]) { block, v in ["output": block(v[0])] }
        // The same block without the causal mask gives other outputs.
        block.isCausal = false
        #expect(largestDifference(block(try fixture.tensor("input.x")), try fixture.tensor("expected.output")) > 1e-3)
    }

    @Test func geluMatchesPyTorchExactlyAndApproximately() throws {
        let fixture = try SequenceFixture("gelu")
        let x = try fixture.tensor("input.x")
        #expect(largestDifference(gelu(x), try fixture.tensor("expected.exact")) < 1e-6)
        #expect(largestDifference(gelu(x, approximation: .tanh), try fixture.tensor("expected.tanh")) < 1e-6)
        #expect(GELU<Float>(approximation: .tanh)(x) == gelu(x, approximation: .tanh) && GELU<Float>()(x) == gelu(x))
        let g = gradient(at: x) { x in
            try! fixture.loss(["exact": gelu(x), "tanh": gelu(x, approximation: .tanh)])
        }
        #expect(largestDifference(g, try fixture.tensor("grad.input.x")) < 1e-5)
    }

    @Test func positionalEmbeddingAddsOneVectorPerPosition() {
        let weight = Tensor<Double>(shape: [4, 2], scalars: [0, 1, 10, 11, 20, 21, 30, 31])
        let layer = PositionalEmbedding(weight: weight)
        #expect(layer.parameterNames == ["weight"] && layer.maximumLength == 4 && layer.dimension == 2)
        let x = Tensor<Double>.ones(shape: [2, 3, 2])
        #expect(layer(x).scalars == [1, 2, 11, 12, 21, 22, 1, 2, 11, 12, 21, 22])
        // The gradient reaches the rows of the positions used, summed over the batch.
        let g = gradient(at: weight) { w in PositionalEmbedding(weight: w)(x).sum() }
        #expect(g.scalars == [2, 2, 2, 2, 2, 2, 0, 0])
    }

    @Test func aQueryWhoseKeysAreAllHiddenAttendsAsIfNoneWereInsteadOfGivingNaN() {
        var generator = SeededGenerator(seed: 4)
        let layer = MultiHeadAttention<Float>(embedDimension: 4, headCount: 2, using: &generator)
        let x = Tensor<Float>.randomNormal(shape: [1, 3, 4], seed: 5)
        let weights = layer.attentionWeights(query: x, key: x, keyPaddingMask: [[true, true, true]])
        #expect(largestDifference(weights, layer.attentionWeights(query: x, key: x)) < 1e-3, "\(weights)")
        let causal = layer.attentionWeights(query: x, key: x, keyPaddingMask: [[false, true, false]], isCausal: true)
        // Query 0 sees key 0 only; query 1 sees key 0 (key 1 is padding); query 2 sees keys 0 and 2.
        #expect(causal[index: 0, 0, 0] == 1 && causal[index: 0, 1, 0] == 1 && causal[index: 0, 1, 1] == 0 && causal[index: 0, 2, 1] == 0)
        #expect(Swift.abs(causal[index: 0, 2, 0] + causal[index: 0, 2, 2] - 1) < 1e-6)
        // In float64 too the hidden weights are exactly 0.
        let double = MultiHeadAttention<Double>(embedDimension: 4, headCount: 2, using: &generator)
        let y = Tensor<Double>.randomNormal(shape: [1, 3, 4], seed: 6) * 30
        let hidden = double.attentionWeights(query: y, key: y, isCausal: true)
        #expect(hidden[index: 0, 0, 1] == 0 && hidden[index: 0, 0, 2] == 0 && hidden[index: 0, 1, 2] == 0)
    }
}
