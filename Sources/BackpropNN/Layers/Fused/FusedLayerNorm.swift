// Layer normalisation as one recorded primitive: each row normalised in one pass forward and one pass back,
// instead of the nine operations forward and about twenty backward of its composition.

/// (x − mean) / √(variance + ε) · weight + bias over the last axis of `x`, as one recorded primitive whose
/// reference is `layerNormReference`.
func fusedLayerNorm<Scalar>(_ x: Tensor<Scalar>, weight: Tensor<Scalar>?, bias: Tensor<Scalar>?, epsilon: Double) -> Tensor<Scalar> {
    let inputs = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
    let hasWeight = weight != nil, hasBias = bias != nil
    func split(_ inputs: [Tensor<Scalar>]) -> (Tensor<Scalar>?, Tensor<Scalar>?) {
        (hasWeight ? inputs[1] : nil, hasBias ? inputs[hasWeight ? 2 : 1] : nil)
    }
    return fusedPrimitive(
        named: "layerNorm", at: inputs,
        forward: { inputs, cache in
            let (weight, bias) = split(inputs)
            return layerNormForward(inputs[0], weight: weight, bias: bias, epsilon: epsilon, cache: cache)
        },
        backward: { inputs, _, cotangent, cache in
            layerNormBackward(cotangent, weight: split(inputs).0, hasBias: hasBias, cache: cache)
        },
        reference: { inputs in
            let (weight, bias) = split(inputs)
            return layerNormReference(inputs[0], weight: weight, bias: bias, epsilon: epsilon)
        })
}

/// The composition `LayerNorm` was written as: mean and biased variance along the last axis, then the
/// normalisation and the affine map, each a differentiable tensor operation.
func layerNormReference<Scalar>(_ x: Tensor<Scalar>, weight: Tensor<Scalar>?, bias: Tensor<Scalar>?, epsilon: Double) -> Tensor<Scalar> {
    let mean = x.mean(alongAxes: [-1], keepingDimensions: true)
    let centered = x - mean
    let variance = (centered * centered).mean(alongAxes: [-1], keepingDimensions: true)
    var output = centered / sqrt(variance + Scalar(epsilon))
    if let weight { output = output * weight }
    if let bias { output = output + bias }
    return output
}

/// Rows per part of a split loop.
private let layerNormPart = 64

/// The forward pass, row by row (split over the cores); the cache keeps the normalised values and each row's
/// 1/√(variance + ε).
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func layerNormForward<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, weight: Tensor<Scalar>?, bias: Tensor<Scalar>?, epsilon: Double, cache: FusedPrimitiveCache<Scalar>?
) -> Tensor<Scalar> {
    let size = x.shape[x.rank - 1], rows = size == 0 ? 0 : x.scalarCount / size
    guard rows > 0 else {
        cache?.values = [[], []]
        return Tensor(shape: x.shape, scalars: [])
    }
    let w = weight?.scalars ?? [], b = bias?.scalars ?? []
    var normalized = [Scalar](unsafeUninitializedCapacity: rows * size) { _, initialized in initialized = rows * size }
    var inverse = [Scalar](unsafeUninitializedCapacity: rows) { _, initialized in initialized = rows }
    var output = [Scalar](unsafeUninitializedCapacity: rows * size) { _, initialized in initialized = rows * size }
    let count = Scalar(size), eps = Scalar(epsilon)
    x.withUnsafeScalars { xp in
        normalized.withUnsafeMutableBufferPointer { np in
            output.withUnsafeMutableBufferPointer { yp in
                inverse.withUnsafeMutableBufferPointer { ip in
                    w.withUnsafeBufferPointer { wp in
                        b.withUnsafeBufferPointer { bp in
                            let (x, n, y, inv) = (xp.baseAddress!, np.baseAddress!, yp.baseAddress!, ip.baseAddress!)
                            forEachPart(count: rows, minimumPerPart: layerNormPart) { _, range in
                                for r in range {
                                    let row = r * size
                                    var sum: Scalar = 0
                                    for j in 0..<size { sum += x[row + j] }
                                    let mean = sum / count
                                    var squares: Scalar = 0
                                    for j in 0..<size {
                                        let d = x[row + j] - mean
                                        squares += d * d
                                    }
                                    let rstd = 1 / (squares / count + eps).squareRoot()
                                    inv[r] = rstd
                                    for j in 0..<size { n[row + j] = (x[row + j] - mean) * rstd }
                                    switch (w.isEmpty ? nil : wp.baseAddress, b.isEmpty ? nil : bp.baseAddress) {
                                    case let (w?, b?): for j in 0..<size { y[row + j] = n[row + j] * w[j] + b[j] }
                                    case let (w?, nil): for j in 0..<size { y[row + j] = n[row + j] * w[j] }
                                    case let (nil, b?): for j in 0..<size { y[row + j] = n[row + j] + b[j] }
                                    case (nil, nil): for j in 0..<size { y[row + j] = n[row + j] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    cache?.values = [normalized, inverse]
    return Tensor(shape: x.shape, scalars: output)
}

/// The backward pass: the input's gradient rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂)) with ĝ = g · weight, and the
/// weight's and bias's gradients summed over the rows (each part sums its rows, then the parts are added).
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func layerNormBackward<Scalar: TensorScalar>(
    _ cotangent: Tensor<Scalar>, weight: Tensor<Scalar>?, hasBias: Bool, cache: FusedPrimitiveCache<Scalar>
) -> [Tensor<Scalar>] {
    let (normalized, inverse) = (cache.values[0], cache.values[1])
    let rows = inverse.count, size = weight?.scalarCount ?? (rows == 0 ? 0 : normalized.count / rows)
    guard rows > 0 else {
        return [Tensor(shape: cotangent.shape, scalars: [])] + (weight == nil ? [] : [Tensor.zeros(shape: [size])]) + (hasBias ? [Tensor.zeros(shape: [size])] : [])
    }
    let w = weight?.scalars ?? [Scalar](repeating: 1, count: size)
    let parts = partCount(rows, minimumPerPart: layerNormPart)
    var dx = [Scalar](unsafeUninitializedCapacity: rows * size) { _, initialized in initialized = rows * size }
    // Per part: the weight's gradient, then the bias's.
    var partial = [Scalar](repeating: 0, count: parts * 2 * size)
    let count = Scalar(size)
    cotangent.withUnsafeScalars { gp in
        normalized.withUnsafeBufferPointer { np in
            inverse.withUnsafeBufferPointer { ip in
                w.withUnsafeBufferPointer { wp in
                    dx.withUnsafeMutableBufferPointer { dxp in
                        partial.withUnsafeMutableBufferPointer { pp in
                            let (g, n, inv, w, d, sums) = (gp.baseAddress!, np.baseAddress!, ip.baseAddress!, wp.baseAddress!, dxp.baseAddress!, pp.baseAddress!)
                            forEachPart(count: rows, minimumPerPart: layerNormPart) { part, range in
                                let dw = sums + part * 2 * size, db = dw + size
                                for r in range {
                                    let row = r * size
                                    var sumG: Scalar = 0, sumGX: Scalar = 0
                                    for j in 0..<size {
                                        let scaled = g[row + j] * w[j]
                                        sumG += scaled
                                        sumGX += scaled * n[row + j]
                                        dw[j] += g[row + j] * n[row + j]
                                        db[j] += g[row + j]
                                    }
                                    let meanG = sumG / count, meanGX = sumGX / count, rstd = inv[r]
                                    for j in 0..<size { d[row + j] = rstd * (g[row + j] * w[j] - meanG - n[row + j] * meanGX) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    var result = [Tensor(shape: cotangent.shape, scalars: dx)]
    func total(_ offset: Int) -> Tensor<Scalar> {
        Tensor(shape: [size], scalars: (0..<size).map { j in (0..<parts).reduce(0) { $0 + partial[$1 * 2 * size + offset + j] } })
    }
    if weight != nil { result.append(total(0)) }
    if hasBias { result.append(total(size)) }
    return result
}
