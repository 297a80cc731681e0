// Causal attention weights as one recorded primitive: each query's softmax over the keys up to it only (the
// exponentials of the hidden half are never computed), one pass forward and one back.

/// softmax(scale · scores + hidden) along the last axis of `scores` (`[..., L, L]`), where `hidden` is −10⁴
/// above the diagonal (the causal mask of `MultiHeadAttention`): the weights of key j for query i are 0 for
/// j > i. One recorded primitive whose reference is that composition.
func fusedCausalSoftmax<Scalar>(_ scores: Tensor<Scalar>, scale: Scalar) -> Tensor<Scalar> {
    fusedPrimitive(
        named: "causalSoftmax", at: [scores],
        forward: { inputs, _ in causalSoftmaxForward(inputs[0], scale: scale) },
        backward: { _, output, cotangent, _ in [causalSoftmaxBackward(output, cotangent, scale: scale)] },
        reference: { inputs in
            let length = inputs[0].shape[inputs[0].rank - 1]
            let hidden = MultiHeadAttention<Scalar>.hiddenScores(batch: 1, queries: length, keys: length, keyPaddingMask: nil, isCausal: true)!
                .reshaped(to: [length, length])
            return (inputs[0] * scale + hidden).softmax(alongAxis: -1)
        })
}

/// Matrices per part of a split loop.
private let softmaxPart = 8

/// The weights, row by row over the visible keys (split over the cores by matrix).
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func causalSoftmaxForward<Scalar: TensorScalar>(_ scores: Tensor<Scalar>, scale: Scalar) -> Tensor<Scalar> {
    let length = scores.shape[scores.rank - 1], total = scores.scalarCount
    let matrices = length == 0 ? 0 : total / (length * length)
    guard matrices > 0 else { return scores }
    var output = [Scalar](repeating: 0, count: total)
    output.withUnsafeMutableBufferPointer { yp in
        scores.withUnsafeScalars { xp in
            let (x, y) = (xp.baseAddress!, yp.baseAddress!)
            forEachPart(count: matrices, minimumPerPart: softmaxPart) { _, range in
                for m in range {
                    for i in 0..<length {
                        let row = (m * length + i) * length
                        var largest = -Scalar.infinity
                        for j in 0...i { largest = Swift.max(largest, scale * x[row + j]) }
                        for j in 0...i { y[row + j] = scale * x[row + j] - largest }
                        VectorFunction.exp.apply(y + row, y + row, count: i + 1)
                        var sum: Scalar = 0
                        for j in 0...i { sum += y[row + j] }
                        let inverse = 1 / sum
                        for j in 0...i { y[row + j] *= inverse }
                    }
                }
            }
        }
    }
    return Tensor(shape: scores.shape, scalars: output)
}

/// The scores' gradient: scale · y · (g − Σ g·y) over each row's visible keys, 0 above the diagonal.
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func causalSoftmaxBackward<Scalar: TensorScalar>(_ output: Tensor<Scalar>, _ cotangent: Tensor<Scalar>, scale: Scalar) -> Tensor<Scalar> {
    let length = output.shape[output.rank - 1], total = output.scalarCount
    let matrices = length == 0 ? 0 : total / (length * length)
    guard matrices > 0 else { return cotangent }
    var gradient = [Scalar](repeating: 0, count: total)
    gradient.withUnsafeMutableBufferPointer { dp in
        output.withUnsafeScalars { yp in
            cotangent.withUnsafeScalars { gp in
                let (d, y, g) = (dp.baseAddress!, yp.baseAddress!, gp.baseAddress!)
                forEachPart(count: matrices, minimumPerPart: softmaxPart) { _, range in
                    for m in range {
                        for i in 0..<length {
                            let row = (m * length + i) * length
                            var dot: Scalar = 0
                            for j in 0...i { dot += g[row + j] * y[row + j] }
                            for j in 0...i { d[row + j] = scale * y[row + j] * (g[row + j] - dot) }
                        }
                    }
                }
            }
        }
    }
    return Tensor(shape: output.shape, scalars: gradient)
}
