/// The layers of a recurrent network, shared by `RNN`, `LSTM` and `GRU`: their weights under PyTorch's
/// names and the pass over a sequence, layer after layer.
struct RecurrentStack<Scalar: TensorScalar>: Sendable {
    /// The recurrence.
    let cell: RecurrentCell
    /// Features per step of the input.
    let inputSize: Int
    /// Features of the hidden state.
    let hiddenSize: Int
    /// Recurrent layers stacked, each reading the hidden states of the one below.
    let layerCount: Int
    /// Whether every layer has the biases `bias_ih` and `bias_hh`.
    let hasBias: Bool
    /// The dropout probability on the outputs of every layer but the last, in training.
    var dropout: Double
    /// `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, then the same for layer 1, ….
    var parameters: [Tensor<Scalar>]

    /// The layer type's name, for messages.
    let typeName: String

    /// A stack with PyTorch's initialisation: every weight and bias uniform in ±1/√hiddenSize.
    init(
        typeName: String, cell: RecurrentCell, inputSize: Int, hiddenSize: Int, layerCount: Int, hasBias: Bool,
        dropout: Double, generator: inout SeededGenerator
    ) {
        precondition(
            inputSize > 0 && hiddenSize > 0 && layerCount > 0,
            "\(typeName): inputSize, hiddenSize and layerCount must be positive, got \(inputSize), \(hiddenSize), \(layerCount)")
        precondition(dropout >= 0 && dropout < 1, "\(typeName): dropout must lie in [0, 1), got \(dropout)")
        self.typeName = typeName
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.hasBias = hasBias
        self.dropout = dropout
        let bound = Scalar(1 / Double(hiddenSize).squareRoot())
        let gates = cell.gateCount * hiddenSize
        var parameters: [Tensor<Scalar>] = []
        for layer in 0..<layerCount {
            var shapes = [[gates, layer == 0 ? inputSize : hiddenSize], [gates, hiddenSize]]
            if hasBias { shapes += [[gates], [gates]] }
            for shape in shapes {
                parameters.append(.randomUniform(shape: shape, lowerBound: -bound, upperBound: bound, using: &generator))
            }
        }
        self.parameters = parameters
    }

    /// Parameters per layer: the two weights, and the two biases when present.
    var parametersPerLayer: Int { hasBias ? 4 : 2 }

    /// PyTorch's names, in the order of `parameters`.
    var parameterNames: [String] {
        (0..<layerCount).flatMap { layer in
            ["weight_ih_l\(layer)", "weight_hh_l\(layer)"] + (hasBias ? ["bias_ih_l\(layer)", "bias_hh_l\(layer)"] : [])
        }
    }

    /// Visits the weights and biases under PyTorch's names.
    mutating func visitTensors(with visitor: inout TensorVisitor<Scalar>) {
        for (index, name) in parameterNames.enumerated() { visitor.visit(&parameters[index], named: name) }
    }

    /// Checks an initial state's shape, `[layerCount, N, hiddenSize]`.
    func checkState(_ state: Tensor<Scalar>, named name: String, batch: Int) {
        precondition(
            state.shape == [layerCount, batch, hiddenSize],
            "\(typeName): \(name) must have shape [layers, batch, hidden] = \([layerCount, batch, hiddenSize]), got \(state.shape)")
    }

    /// Runs every layer over `input` (`[N, T, inputSize]`, batch first) from the given states
    /// (`[layerCount, N, hiddenSize]`, zeros when nil): the last layer's hidden states `[N, T, hiddenSize]`,
    /// and each layer's final hidden state (and cell state, for the LSTM), stacked as `[layerCount, N, hiddenSize]`.
    ///
    /// With `embedded`, `input` is a table of vectors `[V, inputSize]` and the sequence is its rows at the
    /// tokens (see `recurrentLayer`), so that an embedding followed by this stack costs no product per position.
    func run(
        _ input: Tensor<Scalar>, hidden: Tensor<Scalar>?, cell initialCell: Tensor<Scalar>?, embedded: RecurrentEmbeddedInput? = nil,
        context: ForwardContext
    ) -> (output: Tensor<Scalar>, hidden: Tensor<Scalar>, cell: Tensor<Scalar>?) {
        if let embedded {
            precondition(
                input.rank == 2 && input.shape[1] == inputSize && embedded.steps > 0 && embedded.tokens.count == embedded.batch * embedded.steps
                    && embedded.tokens.allSatisfy { $0 >= 0 && $0 < input.shape[0] },
                "\(typeName): expected a table [count, \(inputSize)] and \(embedded.batch) × \(embedded.steps) indices into it, got \(input.shape)")
        } else {
            precondition(
                input.rank == 3 && input.shape[2] == inputSize && input.shape[1] > 0,
                "\(typeName): expected input of shape [batch, steps, \(inputSize)] with at least one step, got \(input.shape)")
        }
        let (batch, steps) = embedded.map { ($0.batch, $0.steps) } ?? (input.shape[0], input.shape[1])
        let zeros = Tensor<Scalar>.zeros(shape: [layerCount, batch, hiddenSize])
        let h0 = hidden ?? zeros
        checkState(h0, named: "the initial hidden state", batch: batch)
        let c0 = cell.hasCellState ? (initialCell ?? zeros) : nil
        if let c0 { checkState(c0, named: "the initial cell state", batch: batch) }
        var x = input
        var finalHidden: [Tensor<Scalar>] = [], finalCell: [Tensor<Scalar>] = []
        for layer in 0..<layerCount {
            var inputs = [x, h0[layer]]
            if let c0 { inputs.append(c0[layer]) }
            inputs += parameters[(layer * parametersPerLayer)..<((layer + 1) * parametersPerLayer)]
            let packed = recurrentLayer(cell, hasBias: hasBias, inputs, embedded: layer == 0 ? embedded : nil)
            let states = cell.hasCellState ? packed.slicing(0..<steps, alongAxis: 1) : packed
            finalHidden.append(states.slicing((steps - 1)..<steps, alongAxis: 1).reshaped(to: [batch, hiddenSize]))
            if cell.hasCellState {
                finalCell.append(packed.slicing(steps..<(steps + 1), alongAxis: 1).reshaped(to: [batch, hiddenSize]))
            }
            x = states
            if layer < layerCount - 1, dropout > 0 { x = Dropout<Scalar>(probability: dropout)(x, context: context) }
        }
        return (x, Tensor(stacking: finalHidden), cell.hasCellState ? Tensor(stacking: finalCell) : nil)
    }
}
