// One layer of a recurrence as one recorded primitive: the forward pass and the first-order backward pass
// (backpropagation through time) by hand, each step's gates in one loop, the input's share of every step in
// one matrix product, and the weight gradients of all steps in one product each. Its derivatives at higher
// orders, and its forward mode, come from the reference definition (RecurrentCell.swift), recomputed when a
// sweep needs them, so the two must compute the same function (the tests check that they do).

/// What the forward pass keeps for the backward pass: the gate activations of every step (LSTM: i, f, g, o;
/// GRU: r, z, n and W_hn h + b_hn; nothing for the plain RNN) and the LSTM's cell states, row `n·T + t`.
final class RecurrentScanCache<Scalar: TensorScalar> {
    var gates: [Scalar] = []
    var cells: [Scalar] = []
}

/// Runs one layer of `cell` over a sequence as one recorded primitive (see `recurrentLayerReference` for the
/// inputs and the packed result). With nothing to differentiate it only computes the value.
func recurrentLayer<Scalar>(_ cell: RecurrentCell, hasBias: Bool, _ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    guard isRecording, inputs.contains(where: { $0.isTracked }) else {
        return recurrentScanForward(cell, hasBias: hasBias, inputs.map { $0.detached() }, cache: nil)
    }
    let cache = RecurrentScanCache<Scalar>()
    return customPrimitive(
        named: cell.primitiveName, at: inputs,
        value: { recurrentScanForward(cell, hasBias: hasBias, $0, cache: cache) },
        vjp: { inputs, output, cotangent in
            // A sweep that records (a derivative to be differentiated again) goes through the reference.
            if isRecording {
                return valueWithPullback(at: inputs) { recurrentLayerReference(cell, hasBias: hasBias, $0) }.pullback(cotangent)
            }
            return recurrentScanBackward(cell, hasBias: hasBias, inputs, output: output, cotangent: cotangent, cache: cache)
        },
        jvp: { inputs, _, tangents in
            valueWithJVP(at: inputs, along: tangents) { recurrentLayerReference(cell, hasBias: hasBias, $0) }.jvp
        })
}

@inline(__always) private func logistic<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
    if x >= 0 { return 1 / (1 + Scalar.exp(-x)) }
    let e = Scalar.exp(x)
    return e / (1 + e)
}

/// The forward pass: the packed hidden states (and the LSTM's last cell state); fills `cache` when given.
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func recurrentScanForward<Scalar: TensorScalar>(
    _ cell: RecurrentCell, hasBias: Bool, _ inputs: [Tensor<Scalar>], cache: RecurrentScanCache<Scalar>?
) -> Tensor<Scalar> {
    let x = inputs[0]
    let stateCount = cell.hasCellState ? 2 : 1
    let weightIH = inputs[stateCount + 1], weightHH = inputs[stateCount + 2]
    let (n, steps, hidden) = (x.shape[0], x.shape[1], weightHH.shape[1])
    let gates = cell.gateCount * hidden
    // The input's share of every step, row n·T + t, with both biases folded in (for the GRU all but the
    // hidden side's n bias, which the reset gate scales).
    var projected = withoutRecording {
        matmul(x.reshaped(to: [n * steps, x.shape[2]]), weightIH, transposeB: true)
    }.scalars
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
    for t in 0..<steps {
        let fromHidden = withoutRecording { matmul(Tensor(shape: [n, hidden], scalars: h), weightHH, transposeB: true) }.scalars
        for b in 0..<n {
            let row = b * steps + t
            let a = row * gates, r = b * gates, state = b * hidden, out = (b * outputSteps + t) * hidden
            switch cell {
            case .tanh, .relu:
                for j in 0..<hidden {
                    let v = projected[a + j] + fromHidden[r + j]
                    let y = cell == .tanh ? Scalar.tanh(v) : (v > 0 ? v : 0)
                    h[state + j] = y
                    output[out + j] = y
                }
            case .lstm:
                for j in 0..<hidden {
                    let i = logistic(projected[a + j] + fromHidden[r + j])
                    let f = logistic(projected[a + hidden + j] + fromHidden[r + hidden + j])
                    let g = Scalar.tanh(projected[a + 2 * hidden + j] + fromHidden[r + 2 * hidden + j])
                    let o = logistic(projected[a + 3 * hidden + j] + fromHidden[r + 3 * hidden + j])
                    let cNew = f * c[state + j] + i * g
                    let y = o * Scalar.tanh(cNew)
                    c[state + j] = cNew
                    h[state + j] = y
                    output[out + j] = y
                    if keep {
                        let base = row * cachedGates + j
                        gateCache[base] = i
                        gateCache[base + hidden] = f
                        gateCache[base + 2 * hidden] = g
                        gateCache[base + 3 * hidden] = o
                        cellCache[row * hidden + j] = cNew
                    }
                }
            case .gru:
                for j in 0..<hidden {
                    let reset = logistic(projected[a + j] + fromHidden[r + j])
                    let update = logistic(projected[a + hidden + j] + fromHidden[r + hidden + j])
                    let hn = fromHidden[r + 2 * hidden + j] + newGateBias[j]
                    let candidate = Scalar.tanh(projected[a + 2 * hidden + j] + reset * hn)
                    let y = (1 - update) * candidate + update * h[state + j]
                    h[state + j] = y
                    output[out + j] = y
                    if keep {
                        let base = row * cachedGates + j
                        gateCache[base] = reset
                        gateCache[base + hidden] = update
                        gateCache[base + 2 * hidden] = candidate
                        gateCache[base + 3 * hidden] = hn
                    }
                }
            }
        }
    }
    if cell.hasCellState {
        for b in 0..<n {
            for j in 0..<hidden { output[(b * outputSteps + steps) * hidden + j] = c[b * hidden + j] }
        }
    }
    if let cache {
        cache.gates = gateCache
        cache.cells = cellCache
    }
    return Tensor(shape: [n, outputSteps, hidden], scalars: output)
}

/// The first-order backward pass: one cotangent per input, from the packed output's cotangent and the
/// values the forward pass cached.
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func recurrentScanBackward<Scalar: TensorScalar>(
    _ cell: RecurrentCell, hasBias: Bool, _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, cotangent: Tensor<Scalar>,
    cache: RecurrentScanCache<Scalar>
) -> [Tensor<Scalar>] {
    let x = inputs[0]
    let stateCount = cell.hasCellState ? 2 : 1
    let weightIH = inputs[stateCount + 1], weightHH = inputs[stateCount + 2]
    let (n, steps, hidden) = (x.shape[0], x.shape[1], weightHH.shape[1])
    let gates = cell.gateCount * hidden, outputSteps = output.shape[1], rows = n * steps
    let g = cotangent.scalars, y = output.scalars, gateCache = cache.gates, cellCache = cache.cells
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
                    let tc = Scalar.tanh(cellCache[row * hidden + j])
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
        dh = withoutRecording { matmul(Tensor(shape: [n, gates], scalars: stepGradient), weightHH) }.scalars
        if cell == .gru {
            for k in 0..<(n * hidden) { dh[k] += direct[k] }
        }
    }
    let dInputSide = Tensor(shape: [rows, gates], scalars: inputSide)
    let dHiddenSide = cell == .gru ? Tensor(shape: [rows, gates], scalars: hiddenSide) : dInputSide
    let (dx, dWeightIH, dWeightHH) = withoutRecording {
        (
            matmul(dInputSide, weightIH).reshaped(to: x.shape),
            matmul(dInputSide, x.reshaped(to: [rows, x.shape[2]]), transposeA: true),
            matmul(dHiddenSide, Tensor(shape: [rows, hidden], scalars: previous), transposeA: true)
        )
    }
    var result = [dx, Tensor(shape: [n, hidden], scalars: dh)]
    if cell.hasCellState { result.append(Tensor(shape: [n, hidden], scalars: dc)) }
    result += [dWeightIH, dWeightHH]
    if hasBias {
        let dBiasIH = dInputSide.sum(alongAxes: 0)
        result += [dBiasIH, cell == .gru ? dHiddenSide.sum(alongAxes: 0) : dBiasIH]
    }
    return result
}
