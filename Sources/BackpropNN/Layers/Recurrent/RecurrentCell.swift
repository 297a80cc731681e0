// The recurrences of PyTorch's recurrent layers, written once as tensor operations: the definition the layers
// follow at every order of differentiation (RecurrentScan.swift computes the same numbers faster for values
// and first-order gradients).

/// Which recurrence a recurrent layer runs, with PyTorch's gate order.
enum RecurrentCell: Sendable, Equatable {
    /// h′ = tanh(W_ih x + b_ih + W_hh h + b_hh).
    case tanh
    /// h′ = relu(W_ih x + b_ih + W_hh h + b_hh).
    case relu
    /// PyTorch's LSTM, gates in the order input, forget, cell, output (i, f, g, o):
    /// c′ = σ(f) c + σ(i) tanh(g), h′ = σ(o) tanh(c′).
    case lstm
    /// PyTorch's GRU, gates in the order reset, update, new (r, z, n): r = σ(W_ir x + b_ir + W_hr h + b_hr),
    /// z likewise, n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h′ = (1 − z) n + z h.
    case gru

    /// The number of gates: the weights have `gateCount · hiddenSize` rows.
    var gateCount: Int {
        switch self {
        case .tanh, .relu: 1
        case .lstm: 4
        case .gru: 3
        }
    }

    /// Whether the recurrence carries a cell state beside the hidden state.
    var hasCellState: Bool { self == .lstm }

    /// The name of the primitive a layer of this recurrence records.
    var primitiveName: String {
        switch self {
        case .tanh: "rnnTanh"
        case .relu: "rnnReLU"
        case .lstm: "lstm"
        case .gru: "gru"
        }
    }
}

/// One layer of a recurrence over a whole sequence, as tensor operations.
///
/// The inputs are `[x, h0]` (and `c0` for the LSTM), then `weight_ih`, `weight_hh`, and `bias_ih`,
/// `bias_hh` when `hasBias`: `x` is `[N, T, inputSize]`, the states `[N, H]`, the weights `[G·H, inputSize]`
/// and `[G·H, H]`. The result is the hidden states of every step, `[N, T, H]`, with the LSTM's final cell
/// state appended as one more step: `[N, T + 1, H]`.
func recurrentLayerReference<Scalar>(_ cell: RecurrentCell, hasBias: Bool, _ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let x = inputs[0]
    let stateCount = cell.hasCellState ? 2 : 1
    let weightIH = inputs[stateCount + 1], weightHH = inputs[stateCount + 2]
    let biasIH = hasBias ? inputs[stateCount + 3] : nil, biasHH = hasBias ? inputs[stateCount + 4] : nil
    let (n, steps, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
    let gates = weightIH.shape[0], hidden = weightHH.shape[1]
    // The input's share of every step's gates at once: [N, T, G·H].
    var projected = matmul(x.reshaped(to: [n * steps, inputSize]), weightIH, transposeB: true)
    if let biasIH { projected = projected + biasIH }
    projected = projected.reshaped(to: [n, steps, gates])
    func chunk(_ t: Tensor<Scalar>, _ k: Int) -> Tensor<Scalar> { t.slicing((k * hidden)..<((k + 1) * hidden), alongAxis: 1) }
    var h = inputs[1]
    var c = cell.hasCellState ? inputs[2] : h
    var states: [Tensor<Scalar>] = []
    for t in 0..<steps {
        let fromInput = projected.slicing(t..<(t + 1), alongAxis: 1).reshaped(to: [n, gates])
        var fromHidden = matmul(h, weightHH, transposeB: true)
        if let biasHH { fromHidden = fromHidden + biasHH }
        switch cell {
        case .tanh:
            h = Backprop.tanh(fromInput + fromHidden)
        case .relu:
            h = Backprop.relu(fromInput + fromHidden)
        case .lstm:
            let a = fromInput + fromHidden
            let i = sigmoid(chunk(a, 0)), f = sigmoid(chunk(a, 1)), g = Backprop.tanh(chunk(a, 2)), o = sigmoid(chunk(a, 3))
            c = f * c + i * g
            h = o * Backprop.tanh(c)
        case .gru:
            let r = sigmoid(chunk(fromInput, 0) + chunk(fromHidden, 0))
            let z = sigmoid(chunk(fromInput, 1) + chunk(fromHidden, 1))
            let candidate = Backprop.tanh(chunk(fromInput, 2) + r * chunk(fromHidden, 2))
            h = (1 - z) * candidate + z * h
        }
        states.append(h)
    }
    if cell.hasCellState { states.append(c) }
    return Tensor(stacking: states, alongAxis: 1)
}
