/// A gated recurrent unit network, as PyTorch's `nn.GRU(inputSize, hiddenSize, layerCount, batch_first=True)`:
/// one or more layers, each reading the hidden states of the one below.
///
/// Each step computes, from the step's input x and the previous hidden state h, in PyTorch's gate order
/// reset, update, new:
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r (W_hn h + b_hn))
///     h′ = (1 − z) n + z h
///
/// Layer k's weights are `weight_ih_lk` (`[3·hiddenSize, inputs]`, the gates' rows stacked in that order),
/// `weight_hh_lk` (`[3·hiddenSize, hiddenSize]`) and the biases `bias_ih_lk`, `bias_hh_lk`, so a PyTorch
/// `state_dict` loads by name. Inputs are batch first, `[N, T, inputSize]`.
///
/// Each layer's pass over the sequence is one recorded primitive (see `LSTM`); the layer works under every
/// transform.
public struct GRU<Scalar: TensorScalar>: Layer {
    var stack: RecurrentStack<Scalar>

    /// Creates a network with PyTorch's initialisation: every weight and bias uniform in ±1/√hiddenSize.
    ///
    /// - Parameters:
    ///   - inputSize: features per step of the input.
    ///   - hiddenSize: features of the hidden state.
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
            typeName: "GRU", cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layerCount,
            hasBias: hasBias, dropout: dropout, generator: &generator)
    }

    /// Features per step of the input.
    public var inputSize: Int { stack.inputSize }
    /// Features of the hidden state.
    public var hiddenSize: Int { stack.hiddenSize }
    /// Layers stacked.
    public var layerCount: Int { stack.layerCount }
    /// Whether each layer has biases.
    public var hasBias: Bool { stack.hasBias }
    /// In training, the dropout probability on the outputs of every layer but the last.
    public var dropout: Double {
        get { stack.dropout }
        set {
            precondition(newValue >= 0 && newValue < 1, "GRU: dropout must lie in [0, 1), got \(newValue)")
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

    /// The last layer's hidden state at every step, `[N, T, hiddenSize]`, and every layer's final hidden state,
    /// `[layerCount, N, hiddenSize]`, as PyTorch's `output, h_n = gru(input, h_0)`.
    ///
    /// - Parameters:
    ///   - input: `[N, T, inputSize]`, batch first, at least one step.
    ///   - initialState: every layer's initial hidden state, `[layerCount, N, hiddenSize]`; zeros when nil.
    ///   - context: training or evaluation (dropout between layers applies in training).
    public func callAsFunction(
        _ input: Tensor<Scalar>, initialState: Tensor<Scalar>?, context: ForwardContext = ForwardContext(mode: .evaluation)
    ) -> (output: Tensor<Scalar>, finalState: Tensor<Scalar>) {
        let result = stack.run(input, hidden: initialState, cell: nil, context: context)
        return (result.output, result.hidden)
    }
}
