/// A long short-term memory network, as PyTorch's `nn.LSTM(inputSize, hiddenSize, layerCount,
/// batch_first=True)`: one or more layers, each reading the hidden states of the one below.
///
/// Each step computes the gates from the step's input x and the previous hidden state h, in PyTorch's order
/// input, forget, cell, output:
///
///     i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
///     g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
///     c′ = f c + i g                            h′ = o tanh(c′)
///
/// Layer k's weights are `weight_ih_lk` (`[4·hiddenSize, inputs]`, the four gates' rows stacked in that
/// order), `weight_hh_lk` (`[4·hiddenSize, hiddenSize]`) and the biases `bias_ih_lk`, `bias_hh_lk`, so a
/// PyTorch `state_dict` loads by name. Inputs are batch first, `[N, T, inputSize]`.
///
/// Each layer's pass over the sequence is one recorded primitive whose backward pass (backpropagation
/// through time) computes every step's gate gradients and then the weights' gradients in one matrix product
/// each; derivatives of higher order and forward mode follow the step equations above, so the layer works
/// under every transform.
public struct LSTM<Scalar: TensorScalar>: Layer {
    var stack: RecurrentStack<Scalar>

    /// Creates a network with PyTorch's initialisation: every weight and bias uniform in ±1/√hiddenSize.
    ///
    /// - Parameters:
    ///   - inputSize: features per step of the input.
    ///   - hiddenSize: features of the hidden and cell states.
    ///   - layerCount: layers stacked (PyTorch's `num_layers`).
    ///   - hasBias: whether each layer has the biases (PyTorch's `bias`).
    ///   - dropout: in training, the dropout probability on the outputs of every layer but the last.
    ///   - generator: the random source for the weights.
    /// - Precondition: the sizes are positive and `0 <= dropout < 1`.
    public init(
        inputSize: Int, hiddenSize: Int, layerCount: Int = 1, hasBias: Bool = true, dropout: Double = 0,
        using generator: inout SeededGenerator
    ) {
        stack = RecurrentStack(
            typeName: "LSTM", cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layerCount,
            hasBias: hasBias, dropout: dropout, generator: &generator)
    }

    /// Features per step of the input.
    public var inputSize: Int { stack.inputSize }
    /// Features of the hidden and cell states.
    public var hiddenSize: Int { stack.hiddenSize }
    /// Layers stacked.
    public var layerCount: Int { stack.layerCount }
    /// Whether each layer has biases.
    public var hasBias: Bool { stack.hasBias }
    /// In training, the dropout probability on the outputs of every layer but the last.
    public var dropout: Double {
        get { stack.dropout }
        set {
            precondition(newValue >= 0 && newValue < 1, "LSTM: dropout must lie in [0, 1), got \(newValue)")
            stack.dropout = newValue
        }
    }

    /// Visits the weights and biases under PyTorch's names: `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
    /// `bias_hh_l0`, `weight_ih_l1`, ….
    public mutating func visitTensors(with visitor: inout TensorVisitor<Scalar>) {
        stack.visitTensors(with: &visitor)
    }

    /// The last layer's hidden state at every step, `[N, T, hiddenSize]`, starting from zero states.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        stack.run(input, hidden: nil, cell: nil, context: context).output
    }

    /// The last layer's hidden state at every step, `[N, T, hiddenSize]`, and every layer's final hidden and
    /// cell states, as PyTorch's `output, (h_n, c_n) = lstm(input, (h_0, c_0))`.
    ///
    /// - Parameters:
    ///   - input: `[N, T, inputSize]`, batch first, at least one step.
    ///   - initialState: every layer's initial states, `[layerCount, N, hiddenSize]` each; zeros when nil.
    ///   - context: training or evaluation (dropout between layers applies in training).
    public func callAsFunction(
        _ input: Tensor<Scalar>, initialState: LSTMState<Scalar>?, context: ForwardContext = ForwardContext(mode: .evaluation)
    ) -> (output: Tensor<Scalar>, finalState: LSTMState<Scalar>) {
        let result = stack.run(input, hidden: initialState?.hidden, cell: initialState?.cell, context: context)
        return (result.output, LSTMState(hidden: result.hidden, cell: result.cell!))
    }
}

/// The hidden and cell states of every layer of an `LSTM`, PyTorch's `(h, c)`: each `[layerCount, N, hiddenSize]`.
public struct LSTMState<Scalar: TensorScalar> {
    /// The hidden states, `[layerCount, N, hiddenSize]`.
    public var hidden: Tensor<Scalar>
    /// The cell states, `[layerCount, N, hiddenSize]`.
    public var cell: Tensor<Scalar>

    /// Creates a state from its two tensors.
    public init(hidden: Tensor<Scalar>, cell: Tensor<Scalar>) {
        self.hidden = hidden
        self.cell = cell
    }
}
