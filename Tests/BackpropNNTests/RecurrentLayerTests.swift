import Foundation
import Testing
@testable import BackpropNN

/// A fixture of scripts/make_sequence_fixtures.py: a PyTorch state_dict with the module's inputs (`input.*`),
/// outputs (`expected.*`), loss weights (`loss.*`) and gradients (`grad.*`).
struct SequenceFixture {
    let checkpoint: Checkpoint

    init(_ name: String) throws {
        checkpoint = try Checkpoint.load(from: fixture("sequence/\(name).safetensors"))
    }

    func tensor<Scalar: TensorScalar>(_ name: String, as type: Scalar.Type = Float.self) throws -> Tensor<Scalar> {
        try checkpoint.tensor(named: name, as: type)
    }

    /// The fixture's scalar loss: Σ output · weight over the named outputs.
    func loss<Scalar: TensorScalar>(_ outputs: [String: Tensor<Scalar>]) throws -> Tensor<Scalar> {
        var total = Tensor<Scalar>(0)
        for (name, value) in outputs { total = total + (value * (try tensor("loss." + name, as: Scalar.self))).sum() }
        return total
    }
}

/// The largest difference between two tensors of one shape, relative to the larger magnitude when it exceeds 1.
func largestDifference<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Double {
    #expect(a.shape == b.shape)
    return zip(a.scalars, b.scalars).map { x, y in
        let (x, y) = (Double(x), Double(y))
        return Swift.abs(x - y) / Swift.max(1, Swift.abs(x), Swift.abs(y))
    }.max() ?? 0
}

/// `RNN`, `LSTM` and `GRU` against PyTorch (outputs, final states and gradients from committed fixtures), and
/// the fast scan against the reference definition.
@Suite struct RecurrentLayerTests {
    /// Loads a fixture's state dict into `layer` by name, runs it, and compares outputs and gradients.
    func checkAgainstPyTorch<L: Layer<Float>>(
        _ name: String, _ layer: L, run: (L, Tensor<Float>, Tensor<Float>, Tensor<Float>?) -> [String: Tensor<Float>]
    ) throws {
        let fixture = try SequenceFixture(name)
        var layer = layer
        try fixture.checkpoint.apply(to: &layer)
        let x = try fixture.tensor("input.x"), h0 = try fixture.tensor("input.h0")
        let c0: Tensor<Float>? = fixture.checkpoint.contains("input.c0") ? try fixture.tensor("input.c0") : nil
        let outputs = run(layer, x, h0, c0)
        for (key, value) in outputs {
            #expect(largestDifference(value, try fixture.tensor("expected." + key)) < 1e-5, "\(name) \(key)")
        }
        // Gradients of the fixture's loss with respect to every parameter and input.
        let inputs = [x, h0] + (c0.map { [$0] } ?? [])
        let network = layer
        let gradients = gradient(at: network.parameters + inputs) { values in
            var model = network
            model.parameters = Array(values.prefix(network.parameters.count))
            let rest = Array(values.dropFirst(network.parameters.count))
            return try! fixture.loss(run(model, rest[0], rest[1], rest.count > 2 ? rest[2] : nil))
        }
        let names = network.parameterNames + ["input.x", "input.h0"] + (c0 == nil ? [] : ["input.c0"])
        for (name, value) in zip(names, gradients) {
            #expect(largestDifference(value, try fixture.tensor("grad." + name)) < 1e-5, "\(name)")
        }
    }

    @Test func rnnMatchesPyTorch() throws {
        var generator = SeededGenerator(seed: 1)
        try checkAgainstPyTorch("rnn", RNN<Float>(inputSize: 3, hiddenSize: 4, layerCount: 2, using: &generator)) { layer, x, h0, _ in
            let (output, hN) = layer(x, initialState: h0)
            return ["output": output, "h_n": hN]
        }
        try checkAgainstPyTorch(
            "rnn_relu", RNN<Float>(inputSize: 3, hiddenSize: 4, nonlinearity: .relu, hasBias: false, using: &generator)
        ) { layer, x, h0, _ in
            let (output, hN) = layer(x, initialState: h0)
            return ["output": output, "h_n": hN]
        }
    }

    @Test func lstmMatchesPyTorch() throws {
        var generator = SeededGenerator(seed: 2)
        try checkAgainstPyTorch("lstm", LSTM<Float>(inputSize: 3, hiddenSize: 4, layerCount: 2, using: &generator)) { layer, x, h0, c0 in
            let (output, state) = layer(x, initialState: LSTMState(hidden: h0, cell: c0!))
            return ["output": output, "h_n": state.hidden, "c_n": state.cell]
        }
    }

    @Test func gruMatchesPyTorch() throws {
        var generator = SeededGenerator(seed: 3)
        try checkAgainstPyTorch("gru", GRU<Float>(inputSize: 3, hiddenSize: 4, layerCount: 2, using: &generator)) { layer, x, h0, _ in
            let (output, hN) = layer(x, initialState: h0)
            return ["output": output, "h_n": hN]
        }
    }

    @Test func namesShapesAndInitialisationFollowPyTorch() {
        var generator = SeededGenerator(seed: 4)
        let lstm = LSTM<Float>(inputSize: 3, hiddenSize: 5, layerCount: 2, using: &generator)
        #expect(lstm.parameterNames == [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
        ])
        #expect(lstm.parameters.map(\.shape) == [[20, 3], [20, 5], [20], [20], [20, 5], [20, 5], [20], [20]])
        let bound = Float(1 / 5.0.squareRoot())
        #expect(lstm.parameters.allSatisfy { $0.scalars.allSatisfy { Swift.abs($0) <= bound } })
        let gru = GRU<Float>(inputSize: 3, hiddenSize: 5, hasBias: false, using: &generator)
        #expect(gru.parameterNames == ["weight_ih_l0", "weight_hh_l0"] && gru.parameters.map(\.shape) == [[15, 3], [15, 5]])
        let rnn = RNN<Float>(inputSize: 3, hiddenSize: 5, using: &generator)
        #expect(rnn.parameters.map(\.shape) == [[5, 3], [5, 5], [5], [5]] && rnn.nonlinearity == .tanh)
        // Inside a Sequential, the names take the layer's index, as in PyTorch.
        let stack = Sequential<Float>(rnn, Linear<Float>(inputSize: 5, outputSize: 2, seed: 0))
        #expect(stack.parameterNames.first == "0.weight_ih_l0")
    }

    /// Random weights, inputs and states in float64 for each recurrence.
    static func doubleCase(_ cell: RecurrentCell, hasBias: Bool = true, layers: Int = 2, steps: Int = 4)
        -> (stack: RecurrentStack<Double>, x: Tensor<Double>, h0: Tensor<Double>, c0: Tensor<Double>)
    {
        var generator = SeededGenerator(seed: 10)
        var stack = RecurrentStack<Double>(
            typeName: "test", cell: cell, inputSize: 3, hiddenSize: 4, layerCount: layers, hasBias: hasBias, dropout: 0,
            generator: &generator)
        // Larger weights than the initialisation, so that the nonlinearities are exercised away from 0.
        stack.parameters = stack.parameters.map { $0 * 2.5 }
        let x = Tensor<Double>.randomNormal(shape: [2, steps, 3], using: &generator)
        let h0 = Tensor<Double>.randomNormal(shape: [layers, 2, 4], using: &generator)
        let c0 = Tensor<Double>.randomNormal(shape: [layers, 2, 4], using: &generator)
        return (stack, x, h0, c0)
    }

    @Test(arguments: [RecurrentCell.tanh, .relu, .lstm, .gru])
    func fastScanMatchesTheReferenceInValueAndGradient(_ cell: RecurrentCell) {
        for hasBias in [true, false] {
            let (stack, x, h0, c0) = Self.doubleCase(cell, hasBias: hasBias, layers: 1, steps: 6)
            let inputs = [x, h0[0]] + (cell.hasCellState ? [c0[0]] : []) + stack.parameters
            let fast = recurrentLayer(cell, hasBias: hasBias, inputs)
            let reference = recurrentLayerReference(cell, hasBias: hasBias, inputs)
            #expect(largestDifference(fast, reference) < 1e-13, "\(cell) value")
            let weights = Tensor<Double>.randomNormal(shape: fast.shape, seed: 5)
            let fastGradient = gradient(at: inputs) { (recurrentLayer(cell, hasBias: hasBias, $0) * weights).sum() }
            let referenceGradient = gradient(at: inputs) { (recurrentLayerReference(cell, hasBias: hasBias, $0) * weights).sum() }
            for (index, (a, b)) in zip(fastGradient, referenceGradient).enumerated() {
                #expect(largestDifference(a, b) < 1e-12, "\(cell), bias \(hasBias), input \(index)")
            }
        }
    }

    @Test(arguments: [RecurrentCell.tanh, .lstm, .gru])
    func anEmbeddedInputGivesWhatItsLookedUpSequenceGives(_ cell: RecurrentCell) {
        // The first layer of a language model reads an embedding's rows at the tokens itself.
        let (stack, _, h0, c0) = Self.doubleCase(cell, layers: 1, steps: 5)
        let table = Tensor<Double>.randomNormal(shape: [7, 3], seed: 12)
        let tokens = [3, 0, 6, 6, 1, 2, 5, 3, 0, 4]
        let embedded = RecurrentEmbeddedInput(tokens: tokens, batch: 2, steps: 5)
        let states = [h0[0]] + (cell.hasCellState ? [c0[0]] : [])
        let viaTable: ([Tensor<Double>]) -> Tensor<Double> = { recurrentLayer(cell, hasBias: true, [$0[0]] + states + $0.dropFirst(), embedded: embedded) }
        let viaSequence: ([Tensor<Double>]) -> Tensor<Double> = {
            recurrentLayer(cell, hasBias: true, [$0[0].gathering(atIndices: tokens, alongAxis: 0).reshaped(to: [2, 5, 3])] + states + $0.dropFirst())
        }
        let inputs = [table] + stack.parameters
        #expect(largestDifference(viaTable(inputs), viaSequence(inputs)) < 1e-13)
        let weights = Tensor<Double>.randomNormal(shape: viaTable(inputs).shape, seed: 13)
        let a = gradient(at: inputs) { (viaTable($0) * weights).sum() }, b = gradient(at: inputs) { (viaSequence($0) * weights).sum() }
        for (index, (x, y)) in zip(a, b).enumerated() { #expect(largestDifference(x, y) < 1e-12, "\(cell) input \(index)") }
    }

    @Test func dropoutActsBetweenLayersInTrainingOnly() {
        var generator = SeededGenerator(seed: 6)
        var lstm = LSTM<Double>(inputSize: 3, hiddenSize: 4, layerCount: 2, dropout: 0.5, using: &generator)
        let x = Tensor<Double>.randomNormal(shape: [2, 3, 3], seed: 7)
        let evaluation = lstm(x)
        let training = lstm(x, context: ForwardContext(mode: .training, seed: 1))
        #expect(evaluation != training)
        lstm.dropout = 0
        #expect(lstm(x, context: ForwardContext(mode: .training, seed: 1)) == evaluation)
    }

    @Test func finalStatesAreTheLastStepsAndStatesCarryOver() {
        // Running a sequence in two halves, the second from the first's final state, gives the whole run.
        var generator = SeededGenerator(seed: 8)
        let lstm = LSTM<Double>(inputSize: 3, hiddenSize: 4, layerCount: 2, using: &generator)
        let x = Tensor<Double>.randomNormal(shape: [2, 6, 3], seed: 9)
        let (whole, wholeState) = lstm(x, initialState: nil)
        let (first, middle) = lstm(x.slicing(0..<3, alongAxis: 1), initialState: nil)
        let (second, end) = lstm(x.slicing(3..<6, alongAxis: 1), initialState: middle)
        #expect(largestDifference(Tensor(concatenating: [first, second], alongAxis: 1), whole) < 1e-14)
        #expect(largestDifference(end.hidden, wholeState.hidden) < 1e-14 && largestDifference(end.cell, wholeState.cell) < 1e-14)
        #expect(largestDifference(wholeState.hidden[1], whole.slicing(5..<6, alongAxis: 1).reshaped(to: [2, 4])) == 0)
        let gru = GRU<Double>(inputSize: 3, hiddenSize: 4, using: &generator)
        let (output, hN) = gru(x, initialState: nil)
        #expect(hN.shape == [1, 2, 4] && output.shape == [2, 6, 4])
    }
}
