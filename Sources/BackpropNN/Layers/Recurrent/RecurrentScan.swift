// One layer of a recurrence as one recorded primitive (FusedPrimitive.swift): the forward pass and the
// first-order backward pass (backpropagation through time) by hand, each step's gates activated by the
// vectorised kernels, the input's share of every step in one matrix product, and the weight gradients of all
// steps in one product each. Its derivatives at higher orders, and its forward mode, come from the reference
// definition (RecurrentCell.swift), so the two must compute the same function (the tests check that they do).

/// Runs one layer of `cell` over a sequence as one recorded primitive (see `recurrentLayerReference` for the
/// inputs and the packed result).
///
/// With `embedded`, the first input is not the sequence `[N, T, inputSize]` but a table of vectors
/// `[V, inputSize]` (an `Embedding`'s weight) and the sequence is its rows at `tokens` (`N · T` indices,
/// row-major): the input's share of the gates is then the table's projection `[V, G·H]` looked up, one small
/// product instead of one per position, and its gradients go back through the same small products.
func recurrentLayer<Scalar>(
    _ cell: RecurrentCell, hasBias: Bool, _ inputs: [Tensor<Scalar>], embedded: RecurrentEmbeddedInput? = nil
) -> Tensor<Scalar> {
    fusedPrimitive(
        named: cell.primitiveName, at: inputs,
        forward: { recurrentScanForward(cell, hasBias: hasBias, $0, embedded: embedded, cache: $1) },
        backward: { recurrentScanBackward(cell, hasBias: hasBias, $0, embedded: embedded, output: $1, cotangent: $2, cache: $3) },
        reference: { inputs in
            guard let embedded else { return recurrentLayerReference(cell, hasBias: hasBias, inputs) }
            let sequence = inputs[0].gathering(atIndices: embedded.tokens, alongAxis: 0)
                .reshaped(to: [embedded.batch, embedded.steps, inputs[0].shape[1]])
            return recurrentLayerReference(cell, hasBias: hasBias, [sequence] + inputs.dropFirst())
        })
}

/// The token indices whose embeddings make a recurrent layer's input sequence (see `recurrentLayer`).
struct RecurrentEmbeddedInput: Sendable {
    /// `batch · steps` indices into the table, row-major.
    var tokens: [Int]
    /// Sequences.
    var batch: Int
    /// Positions per sequence.
    var steps: Int
}

/// The forward pass: the packed hidden states (and the LSTM's last cell state). With a cache it keeps, row
/// `n·T + t`, the gate activations (LSTM: i, f, g, o; GRU: r, z, n and W_hn h + b_hn) in `values[0]`, and the
/// LSTM's cell states and their tanh in `values[1]` and `values[2]`.
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func recurrentScanForward<Scalar: TensorScalar>(
    _ cell: RecurrentCell, hasBias: Bool, _ inputs: [Tensor<Scalar>], embedded: RecurrentEmbeddedInput? = nil,
    cache: FusedPrimitiveCache<Scalar>?
) -> Tensor<Scalar> {
    let x = inputs[0]
    let stateCount = cell.hasCellState ? 2 : 1
    let weightIH = inputs[stateCount + 1], weightHH = inputs[stateCount + 2]
    let (n, steps, hidden) = (embedded?.batch ?? x.shape[0], embedded?.steps ?? x.shape[1], weightHH.shape[1])
    let gates = cell.gateCount * hidden
    // The input's share of every step in one product, row n·T + t, with both biases folded in (for the GRU
    // all but the hidden side's n bias, which the reset gate scales). Embedded input: the table's projection,
    // looked up.
    var projected: [Scalar]
    if let embedded {
        let table = matmul(x, weightIH, transposeB: true).scalars
        projected = [Scalar](unsafeUninitializedCapacity: n * steps * gates) { p, initialized in
            for (row, token) in embedded.tokens.enumerated() {
                for k in 0..<gates { p[row * gates + k] = table[token * gates + k] }
            }
            initialized = n * steps * gates
        }
    } else {
        projected = matmul(x.reshaped(to: [n * steps, x.shape[2]]), weightIH, transposeB: true).scalars
    }
    var newGateBias = [Scalar](repeating: 0, count: hidden)
    if hasBias {
        let biasIH = inputs[stateCount + 3].scalars, biasHH = inputs[stateCount + 4].scalars
        var bias = zip(biasIH, biasHH).map { $0 + $1 }
        if cell == .gru {
            for j in 0..<hidden {
                bias[2 * hidden + j] = biasIH[2 * hidden + j]
                newGateBias[j] = biasHH[2 * hidden + j]
            }
        }
        for row in 0..<(n * steps) {
            for k in 0..<gates { projected[row * gates + k] += bias[k] }
        }
    }
    let outputSteps = cell.hasCellState ? steps + 1 : steps
    var output = [Scalar](repeating: 0, count: n * outputSteps * hidden)
    var h = inputs[1].scalars
    var c = cell.hasCellState ? inputs[2].scalars : []
    let keep = cache != nil
    let cachedGates = cell == .lstm || cell == .gru ? 4 * hidden : 0
    var gateCache = [Scalar](repeating: 0, count: keep ? n * steps * cachedGates : 0)
    var cellCache = [Scalar](repeating: 0, count: keep && cell.hasCellState ? n * steps * hidden : 0)
    var tanhCellCache = cellCache
    // One step's gates (pre-activation, then activated in place) and, for the GRU, its candidate.
    var step = [Scalar](repeating: 0, count: n * Swift.max(gates, cachedGates))
    var candidate = [Scalar](repeating: 0, count: cell == .gru ? n * hidden : 0)
    var tanhCell = [Scalar](repeating: 0, count: cell.hasCellState ? n * hidden : 0)
    for t in 0..<steps {
        let fromHidden = matmul(Tensor(shape: [n, hidden], scalars: h), weightHH, transposeB: true).scalars
        let width = cachedGates > 0 ? cachedGates : gates
        for b in 0..<n {
            let a = (b * steps + t) * gates, r = b * gates, row = b * width
            switch cell {
            case .tanh, .relu, .lstm:
                for k in 0..<gates { step[row + k] = projected[a + k] + fromHidden[r + k] }
            case .gru:
                for k in 0..<(2 * hidden) { step[row + k] = projected[a + k] + fromHidden[r + k] }
                for j in 0..<hidden { step[row + 3 * hidden + j] = fromHidden[r + 2 * hidden + j] + newGateBias[j] }
            }
        }
        switch cell {
        case .tanh:
            VectorFunction.tanh.apply(inPlace: &step, 0..<(n * hidden))
            for k in 0..<(n * hidden) { h[k] = step[k] }
        case .relu:
            for k in 0..<(n * hidden) { h[k] = step[k] > 0 ? step[k] : 0 }
        case .lstm:
            for b in 0..<n {
                let row = b * width
                VectorFunction.sigmoid.apply(inPlace: &step, row..<(row + 2 * hidden))
                VectorFunction.tanh.apply(inPlace: &step, (row + 2 * hidden)..<(row + 3 * hidden))
                VectorFunction.sigmoid.apply(inPlace: &step, (row + 3 * hidden)..<(row + 4 * hidden))
                for j in 0..<hidden { c[b * hidden + j] = step[row + hidden + j] * c[b * hidden + j] + step[row + j] * step[row + 2 * hidden + j] }
            }
            for k in 0..<(n * hidden) { tanhCell[k] = c[k] }
            VectorFunction.tanh.apply(inPlace: &tanhCell, 0..<(n * hidden))
            for b in 0..<n {
                for j in 0..<hidden { h[b * hidden + j] = step[b * width + 3 * hidden + j] * tanhCell[b * hidden + j] }
            }
        case .gru:
            for b in 0..<n {
                let row = b * width, a = (b * steps + t) * gates
                VectorFunction.sigmoid.apply(inPlace: &step, row..<(row + 2 * hidden))
                for j in 0..<hidden { candidate[b * hidden + j] = projected[a + 2 * hidden + j] + step[row + j] * step[row + 3 * hidden + j] }
            }
            VectorFunction.tanh.apply(inPlace: &candidate, 0..<(n * hidden))
            for b in 0..<n {
                let row = b * width
                for j in 0..<hidden {
                    let update = step[row + hidden + j]
                    step[row + 2 * hidden + j] = candidate[b * hidden + j]
                    h[b * hidden + j] = (1 - update) * candidate[b * hidden + j] + update * h[b * hidden + j]
                }
            }
        }
        for b in 0..<n {
            let out = (b * outputSteps + t) * hidden, row = b * steps + t
            for j in 0..<hidden { output[out + j] = h[b * hidden + j] }
            if keep && cachedGates > 0 {
                for k in 0..<cachedGates { gateCache[row * cachedGates + k] = step[b * width + k] }
            }
            if keep && cell.hasCellState {
                for j in 0..<hidden {
                    cellCache[row * hidden + j] = c[b * hidden + j]
                    tanhCellCache[row * hidden + j] = tanhCell[b * hidden + j]
                }
            }
        }
    }
    if cell.hasCellState {
        for b in 0..<n {
            for j in 0..<hidden { output[(b * outputSteps + steps) * hidden + j] = c[b * hidden + j] }
        }
    }
    cache?.values = [gateCache, cellCache, tanhCellCache]
    return Tensor(shape: [n, outputSteps, hidden], scalars: output)
}

/// The first-order backward pass: one cotangent per input, from the packed output's cotangent and the
/// values the forward pass cached.
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func recurrentScanBackward<Scalar: TensorScalar>(
    _ cell: RecurrentCell, hasBias: Bool, _ inputs: [Tensor<Scalar>], embedded: RecurrentEmbeddedInput? = nil,
    output: Tensor<Scalar>, cotangent: Tensor<Scalar>, cache: FusedPrimitiveCache<Scalar>
) -> [Tensor<Scalar>] {
    let x = inputs[0]
    let stateCount = cell.hasCellState ? 2 : 1
    let weightIH = inputs[stateCount + 1], weightHH = inputs[stateCount + 2]
    let (n, steps, hidden) = (embedded?.batch ?? x.shape[0], embedded?.steps ?? x.shape[1], weightHH.shape[1])
    let gates = cell.gateCount * hidden, outputSteps = output.shape[1], rows = n * steps
    let g = cotangent.scalars, y = output.scalars
    let (gateCache, cellCache, tanhCellCache) = (cache.values[0], cache.values[1], cache.values[2])
    let h0 = inputs[1].scalars
    let c0 = cell.hasCellState ? inputs[2].scalars : []
    // The gradients of the gates' pre-activations, row n·T + t: the input side's and (GRU only, where the
    // reset gate scales the hidden side's n) the hidden side's.
    var inputSide = [Scalar](repeating: 0, count: rows * gates)
    var hiddenSide = cell == .gru ? inputSide : []
    // The state each step started from, row n·T + t, for the hidden weights' gradient.
    var previous = [Scalar](repeating: 0, count: rows * hidden)
    for b in 0..<n {
        for t in 0..<steps {
            let from = t > 0 ? (b * outputSteps + t - 1) * hidden : -1
            for j in 0..<hidden { previous[(b * steps + t) * hidden + j] = t > 0 ? y[from + j] : h0[b * hidden + j] }
        }
    }
    // The gradients with respect to the state after the current step, from the steps after it.
    var dh = [Scalar](repeating: 0, count: n * hidden)
    var dc = [Scalar](repeating: 0, count: cell.hasCellState ? n * hidden : 0)
    if cell.hasCellState {
        for b in 0..<n {
            for j in 0..<hidden { dc[b * hidden + j] = g[(b * outputSteps + steps) * hidden + j] }
        }
    }
    var stepGradient = [Scalar](repeating: 0, count: n * gates)
    var direct = [Scalar](repeating: 0, count: cell == .gru ? n * hidden : 0)
    for t in stride(from: steps - 1, through: 0, by: -1) {
        for b in 0..<n {
            let row = b * steps + t, out = (b * outputSteps + t) * hidden, state = b * hidden
            let d = row * gates, step = b * gates, cached = row * 4 * hidden
            switch cell {
            case .tanh, .relu:
                for j in 0..<hidden {
                    let total = g[out + j] + dh[state + j]
                    let h = y[out + j]
                    let da = cell == .tanh ? total * (1 - h * h) : (h > 0 ? total : 0)
                    inputSide[d + j] = da
                    stepGradient[step + j] = da
                }
            case .lstm:
                for j in 0..<hidden {
                    let total = g[out + j] + dh[state + j]
                    let i = gateCache[cached + j], f = gateCache[cached + hidden + j]
                    let gg = gateCache[cached + 2 * hidden + j], o = gateCache[cached + 3 * hidden + j]
                    let cOld = t > 0 ? cellCache[(row - 1) * hidden + j] : c0[state + j]
                    let tc = tanhCellCache[row * hidden + j]
                    let dcTotal = dc[state + j] + total * o * (1 - tc * tc)
                    let di = dcTotal * gg * i * (1 - i)
                    let df = dcTotal * cOld * f * (1 - f)
                    let dg = dcTotal * i * (1 - gg * gg)
                    let dO = total * tc * o * (1 - o)
                    dc[state + j] = dcTotal * f
                    inputSide[d + j] = di
                    inputSide[d + hidden + j] = df
                    inputSide[d + 2 * hidden + j] = dg
                    inputSide[d + 3 * hidden + j] = dO
                    stepGradient[step + j] = di
                    stepGradient[step + hidden + j] = df
                    stepGradient[step + 2 * hidden + j] = dg
                    stepGradient[step + 3 * hidden + j] = dO
                }
            case .gru:
                for j in 0..<hidden {
                    let total = g[out + j] + dh[state + j]
                    let reset = gateCache[cached + j], update = gateCache[cached + hidden + j]
                    let candidate = gateCache[cached + 2 * hidden + j], hn = gateCache[cached + 3 * hidden + j]
                    let dCandidate = total * (1 - update) * (1 - candidate * candidate)
                    let dReset = dCandidate * hn * reset * (1 - reset)
                    let dUpdate = total * (previous[row * hidden + j] - candidate) * update * (1 - update)
                    let dhn = dCandidate * reset
                    direct[state + j] = total * update
                    inputSide[d + j] = dReset
                    inputSide[d + hidden + j] = dUpdate
                    inputSide[d + 2 * hidden + j] = dCandidate
                    hiddenSide[d + j] = dReset
                    hiddenSide[d + hidden + j] = dUpdate
                    hiddenSide[d + 2 * hidden + j] = dhn
                    stepGradient[step + j] = dReset
                    stepGradient[step + hidden + j] = dUpdate
                    stepGradient[step + 2 * hidden + j] = dhn
                }
            }
        }
        // What reaches the previous state: through the hidden weights (and, for the GRU, directly).
        dh = matmul(Tensor(shape: [n, gates], scalars: stepGradient), weightHH).scalars
        if cell == .gru {
            for k in 0..<(n * hidden) { dh[k] += direct[k] }
        }
    }
    let dInputSide = Tensor(shape: [rows, gates], scalars: inputSide)
    let dHiddenSide = cell == .gru ? Tensor(shape: [rows, gates], scalars: hiddenSide) : dInputSide
    let dx: Tensor<Scalar>, dWeightIH: Tensor<Scalar>
    if let embedded {
        // The gates' gradients summed by token: the gradient of the table's projection.
        let vocabulary = x.shape[0]
        var byToken = [Scalar](repeating: 0, count: vocabulary * gates)
        for (row, token) in embedded.tokens.enumerated() {
            for k in 0..<gates { byToken[token * gates + k] += inputSide[row * gates + k] }
        }
        let dTable = Tensor(shape: [vocabulary, gates], scalars: byToken)
        dx = matmul(dTable, weightIH)
        dWeightIH = matmul(dTable, x, transposeA: true)
    } else {
        dx = matmul(dInputSide, weightIH).reshaped(to: x.shape)
        dWeightIH = matmul(dInputSide, x.reshaped(to: [rows, x.shape[2]]), transposeA: true)
    }
    let dWeightHH = matmul(dHiddenSide, Tensor(shape: [rows, hidden], scalars: previous), transposeA: true)
    var result = [dx, Tensor(shape: [n, hidden], scalars: dh)]
    if cell.hasCellState { result.append(Tensor(shape: [n, hidden], scalars: dc)) }
    result += [dWeightIH, dWeightHH]
    if hasBias {
        let dBiasIH = dInputSide.sum(alongAxes: 0)
        result += [dBiasIH, cell == .gru ? dHiddenSide.sum(alongAxes: 0) : dBiasIH]
    }
    return result
}
