import Testing
@testable import BackpropNN

/// One sequence layer (or function) to differentiate with respect to its inputs and parameters together.
struct LayerCase: CustomStringConvertible, Sendable {
    var name: String
    var inputs: [Tensor<Double>]
    var f: @Sendable ([Tensor<Double>]) -> Tensor<Double>
    var description: String { name }
}

/// A layer case: `inputs` then the layer's parameters, differentiated together.
func layerCase<L: Layer<Double>>(_ name: String, _ layer: L, inputs: [Tensor<Double>], apply: @escaping @Sendable (L, [Tensor<Double>]) -> Tensor<Double>)
    -> LayerCase where L: Sendable
{
    let count = inputs.count
    return LayerCase(name: name, inputs: inputs + layer.parameters) { values in
        var model = layer
        model.parameters = Array(values.dropFirst(count))
        return apply(model, Array(values.prefix(count)))
    }
}

extension RNN: @unchecked Sendable {}
extension LSTM: @unchecked Sendable {}
extension GRU: @unchecked Sendable {}
extension MultiHeadAttention: @unchecked Sendable {}
extension TransformerBlock: @unchecked Sendable {}
extension PositionalEmbedding: @unchecked Sendable {}
extension GELU: @unchecked Sendable {}
extension LayerNorm: @unchecked Sendable {}
extension RecurrentLanguageModel: @unchecked Sendable {}
extension TransformerLanguageModel: @unchecked Sendable {}

/// The sequence layers at small sizes, with weights large enough to leave the nonlinearities' linear range.
let sequenceLayerCases: [LayerCase] = {
    var generator = SeededGenerator(seed: 21)
    func scaled<L: Layer<Double>>(_ layer: L, by factor: Double) -> L {
        var layer = layer
        layer.parameters = layer.parameters.map { $0 * factor }
        return layer
    }
    let x = Tensor<Double>.randomNormal(shape: [2, 3, 3], using: &generator)
    let h0 = Tensor<Double>.randomNormal(shape: [2, 2, 2], using: &generator) * 0.5
    let c0 = Tensor<Double>.randomNormal(shape: [2, 2, 2], using: &generator) * 0.5
    let rnn = scaled(RNN<Double>(inputSize: 3, hiddenSize: 2, layerCount: 2, using: &generator), by: 2)
    let lstm = scaled(LSTM<Double>(inputSize: 3, hiddenSize: 2, layerCount: 2, using: &generator), by: 2)
    let gru = scaled(GRU<Double>(inputSize: 3, hiddenSize: 2, layerCount: 2, using: &generator), by: 2)
    let noBias = scaled(GRU<Double>(inputSize: 3, hiddenSize: 2, hasBias: false, using: &generator), by: 2)
    var attention = MultiHeadAttention<Double>(embedDimension: 4, headCount: 2, using: &generator)
    attention.parameters = attention.parameters.map { $0 + Tensor.randomNormal(shape: $0.shape, standardDeviation: 0.3, using: &generator) }
    var block = TransformerBlock<Double>(width: 4, headCount: 2, feedForwardWidth: 6, isCausal: true, using: &generator)
    block.parameters = block.parameters.map { $0 + Tensor.randomNormal(shape: $0.shape, standardDeviation: 0.3, using: &generator) }
    let sequence = Tensor<Double>.randomNormal(shape: [2, 3, 4], using: &generator)
    let keys = Tensor<Double>.randomNormal(shape: [2, 4, 4], using: &generator)
    let positions = PositionalEmbedding<Double>(maximumLength: 5, dimension: 4, using: &generator)
    let languageModel = scaled(RecurrentLanguageModel<Double>(LanguageModelConfiguration(kind: .lstm, vocabularySize: 5, layers: 2, width: 3), seed: 3), by: 1.5)
    let transformerModel = scaled(TransformerLanguageModel<Double>(LanguageModelConfiguration(kind: .transformer, vocabularySize: 5, context: 4, layers: 1, width: 4, heads: 2), seed: 4), by: 5)
    return [
        layerCase("RNN tanh, two layers, final state", rnn, inputs: [x, h0]) { layer, v in
            let (output, hN) = layer(v[0], initialState: v[1])
            return Tensor(concatenating: [output.reshaped(to: [12]), hN.reshaped(to: [8])])
        },
        layerCase("LSTM, two layers, final states", lstm, inputs: [x, h0, c0]) { layer, v in
            let (output, state) = layer(v[0], initialState: LSTMState(hidden: v[1], cell: v[2]))
            return Tensor(concatenating: [output.reshaped(to: [12]), state.hidden.reshaped(to: [8]), state.cell.reshaped(to: [8])])
        },
        layerCase("GRU, two layers, final state", gru, inputs: [x, h0]) { layer, v in
            let (output, hN) = layer(v[0], initialState: v[1])
            return Tensor(concatenating: [output.reshaped(to: [12]), hN.reshaped(to: [8])])
        },
        layerCase("GRU without bias", noBias, inputs: [x]) { layer, v in layer(v[0]) },
        layerCase("MultiHeadAttention, causal, key padding", attention, inputs: [sequence]) { layer, v in
            layer(query: v[0], key: v[0], value: v[0], keyPaddingMask: [[false, false, true], [false, false, false]], isCausal: true)
        },
        layerCase("MultiHeadAttention, causal", attention, inputs: [sequence]) { layer, v in
            layer(query: v[0], key: v[0], value: v[0], isCausal: true)
        },
        layerCase("LayerNorm", LayerNorm<Double>(weight: Tensor([0.5, 1.5, -1, 2]), bias: Tensor([0.1, 0, -0.2, 0.3])), inputs: [sequence * 3]) { layer, v in
            layer(v[0])
        },
        layerCase("MultiHeadAttention, cross, additive mask", attention, inputs: [sequence, keys]) { layer, v in
            let mask = Tensor<Double>(shape: [3, 4], scalars: (0..<12).map { Double($0 % 5) * -0.4 })
            return layer(query: v[0], key: v[1], value: v[1] * v[1], attentionMask: mask)
        },
        layerCase("TransformerBlock, causal", block, inputs: [sequence]) { layer, v in layer(v[0]) },
        layerCase("PositionalEmbedding", positions, inputs: [sequence]) { layer, v in sin(layer(v[0])) },
        layerCase("LSTM language model (embedded first layer)", languageModel, inputs: []) { model, _ in
            model.logits(tokens: [1, 4, 0, 2, 3, 3], batch: 2, context: ForwardContext(mode: .evaluation))
        },
        layerCase("Transformer language model", transformerModel, inputs: []) { model, _ in
            model.logits(tokens: [1, 4, 0, 2, 3, 3], batch: 2, context: ForwardContext(mode: .evaluation))
        },
        layerCase("gelu", GELU<Double>(), inputs: [sequence * 2]) { layer, v in layer(v[0]) },
        layerCase("gelu, tanh approximation", GELU<Double>(approximation: .tanh), inputs: [sequence * 2]) { layer, v in layer(v[0]) },
    ]
}()

/// Every sequence layer under every transform, in float64: forward mode against central differences and
/// against reverse mode (the dot-product test), and second derivatives by forward-over-reverse,
/// reverse-over-reverse and reverse-over-forward against central differences of the gradient.
@Suite struct SequenceDerivativeTests {
    func largestError(_ a: [Tensor<Double>], _ b: [Tensor<Double>]) -> Double {
        zip(a, b).map { largestDifference($0, $1) }.max() ?? 0
    }

    func directions(like tensors: [Tensor<Double>], seed: UInt64) -> [Tensor<Double>] {
        tensors.enumerated().map { Tensor.randomUniform(shape: $1.shape, lowerBound: -1, upperBound: 1, seed: seed + UInt64($0)) }
    }

    func dot(_ a: [Tensor<Double>], _ b: [Tensor<Double>]) -> Double {
        zip(a, b).reduce(0) { $0 + zip($1.0.scalars, $1.1.scalars).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    @Test(arguments: sequenceLayerCases)
    func jvpMatchesFiniteDifferences(_ c: LayerCase) {
        let v = directions(like: c.inputs, seed: 100)
        let (value, tangent) = valueWithJVP(at: c.inputs, along: v, of: c.f)
        #expect(largestDifference(value, withoutRecording { c.f(c.inputs) }) < 1e-14)
        let h = 1e-6
        let plus = c.f(zip(c.inputs, v).map { $0 + h * $1 }), minus = c.f(zip(c.inputs, v).map { $0 - h * $1 })
        #expect(largestError([tangent], [(plus - minus) / (2 * h)]) < 1e-6, "\(c.name)")
    }

    @Test(arguments: sequenceLayerCases)
    func jvpAndVJPAgreeByTheDotProductTest(_ c: LayerCase) {
        let v = directions(like: c.inputs, seed: 200)
        let (y, pullback) = valueWithPullback(at: c.inputs, of: c.f)
        let u = Tensor<Double>.randomUniform(shape: y.shape, lowerBound: -1, upperBound: 1, seed: 300)
        let left = dot([u], [jvp(at: c.inputs, along: v, of: c.f)]), right = dot(pullback(u), v)
        #expect(Swift.abs(left - right) <= 1e-10 * Swift.max(1, Swift.abs(left)), "\(c.name): \(left) vs \(right)")
    }

    @Test(arguments: sequenceLayerCases)
    func gradientMatchesFiniteDifferences(_ c: LayerCase) {
        let u = Tensor<Double>.randomUniform(shape: withoutRecording { c.f(c.inputs) }.shape, lowerBound: -1, upperBound: 1, seed: 350)
        let result = checkGradients(at: c.inputs) { (c.f($0) * u).sum() }
        #expect(result.passes(tolerance: 1e-7), "\(c.name): \(result)")
    }

    @Test(arguments: sequenceLayerCases)
    func secondDerivativesMatchFiniteDifferencesOfTheGradient(_ c: LayerCase) {
        let u = Tensor<Double>.randomUniform(shape: withoutRecording { c.f(c.inputs) }.shape, lowerBound: -1, upperBound: 1, seed: 400)
        let g: ([Tensor<Double>]) -> Tensor<Double> = { (c.f($0) * u).sum() }
        let v = directions(like: c.inputs, seed: 500)
        let h = 1e-5
        let plus = gradient(at: zip(c.inputs, v).map { $0 + h * $1 }, of: g)
        let minus = gradient(at: zip(c.inputs, v).map { $0 - h * $1 }, of: g)
        let estimate = zip(plus, minus).map { ($0 - $1) / (2 * h) }
        #expect(largestError(hessianVectorProduct(at: c.inputs, along: v, of: g), estimate) < 1e-5, "\(c.name) forward-over-reverse")
        let reverseOverReverse = gradient(at: c.inputs) { xs in
            zip(gradient(at: xs, of: g), v).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
        }
        #expect(largestError(reverseOverReverse, estimate) < 1e-5, "\(c.name) reverse-over-reverse")
        let reverseOverForward = gradient(at: c.inputs) { xs in jvp(at: xs, along: v, of: g) }
        #expect(largestError(reverseOverForward, estimate) < 1e-5, "\(c.name) reverse-over-forward")
    }
}
