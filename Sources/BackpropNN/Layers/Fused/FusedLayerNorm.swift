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

/// The forward pass, row by row on the vectorised kernels (rows split over the cores); the cache keeps the
/// normalised values and each row's 1/√(variance + ε).
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func layerNormForward<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, weight: Tensor<Scalar>?, bias: Tensor<Scalar>?, epsilon: Double, cache: FusedPrimitiveCache<Scalar>?
) -> Tensor<Scalar> {
    let size = x.shape[x.rank - 1], rows = size == 0 ? 0 : x.scalarCount / size
    guard rows > 0 else {
        cache?.values = [[], []]
        return Tensor(shape: x.shape, scalars: [])
    }
    let w = weight?.scalars ?? [Scalar](repeating: 1, count: size), b = bias?.scalars ?? [Scalar](repeating: 0, count: size)
    let hasWeight = weight != nil, hasBias = bias != nil
    var normalized = [Scalar](unsafeUninitializedCapacity: rows * size) { _, initialized in initialized = rows * size }
    var inverse = [Scalar](unsafeUninitializedCapacity: rows) { _, initialized in initialized = rows }
    var output = [Scalar](unsafeUninitializedCapacity: rows * size) { _, initialized in initialized = rows * size }
    let parts = partCount(rows, minimumPerPart: layerNormPart)
    var squares = [Scalar](unsafeUninitializedCapacity: parts * size) { _, initialized in initialized = parts * size }
    let count = Scalar(size), eps = Scalar(epsilon)
    x.withUnsafeScalars { xp in
        normalized.withUnsafeMutableBufferPointer { np in
            output.withUnsafeMutableBufferPointer { yp in
                inverse.withUnsafeMutableBufferPointer { ip in
                    squares.withUnsafeMutableBufferPointer { sp in
                        w.withUnsafeBufferPointer { wp in
                            b.withUnsafeBufferPointer { bp in
                                let (x, n, y, inv, w, b) = (xp.baseAddress!, np.baseAddress!, yp.baseAddress!, ip.baseAddress!, wp.baseAddress!, bp.baseAddress!)
                                forEachPart(count: rows, minimumPerPart: layerNormPart) { part, range in
                                    let square = sp.baseAddress! + part * size
                                    for r in range {
                                        let (xr, nr, yr) = (x + r * size, n + r * size, y + r * size)
                                        let mean = Vector.sum(xr, size) / count
                                        Vector.affine(xr, 1, -mean, nr, size)
                                        Vector.multiply(nr, nr, square, size)
                                        let rstd = 1 / (Vector.sum(square, size) / count + eps).squareRoot()
                                        inv[r] = rstd
                                        Vector.affine(nr, rstd, 0, nr, size)
                                        switch (hasWeight, hasBias) {
                                        case (true, true):
                                            Vector.multiply(nr, w, yr, size)
                                            Vector.add(yr, b, yr, size)
                                        case (true, false): Vector.multiply(nr, w, yr, size)
                                        case (false, true): Vector.add(nr, b, yr, size)
                                        case (false, false): yr.update(from: nr, count: size)
                                        }
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

/// The backward pass: the input's gradient rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂)) with ĝ = g · weight, row by
/// row; the weight's gradient Σ_rows g ∘ x̂ and the bias's Σ_rows g as column sums.
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
    // g ∘ x̂ for the weight's gradient, and each part's scratch row.
    var product = [Scalar](unsafeUninitializedCapacity: weight == nil ? 0 : rows * size) { _, initialized in initialized = weight == nil ? 0 : rows * size }
    var scratch = [Scalar](unsafeUninitializedCapacity: parts * 2 * size) { _, initialized in initialized = parts * 2 * size }
    var dw = [Scalar](repeating: 0, count: weight == nil ? 0 : size), db = [Scalar](repeating: 0, count: hasBias ? size : 0)
    let count = Scalar(size)
    cotangent.withUnsafeScalars { gp in
        normalized.withUnsafeBufferPointer { np in
            inverse.withUnsafeBufferPointer { ip in
                w.withUnsafeBufferPointer { wp in
                    dx.withUnsafeMutableBufferPointer { dxp in
                        product.withUnsafeMutableBufferPointer { pp in
                            scratch.withUnsafeMutableBufferPointer { sp in
                                let (g, n, inv, w, d) = (gp.baseAddress!, np.baseAddress!, ip.baseAddress!, wp.baseAddress!, dxp.baseAddress!)
                                let hasWeight = weight != nil
                                forEachPart(count: rows, minimumPerPart: layerNormPart) { part, range in
                                    let scaled = sp.baseAddress! + part * 2 * size, term = scaled + size
                                    for r in range {
                                        let (gr, nr, dr) = (g + r * size, n + r * size, d + r * size)
                                        Vector.multiply(gr, w, scaled, size)
                                        Vector.multiply(scaled, nr, term, size)
                                        let meanG = Vector.sum(scaled, size) / count, meanGX = Vector.sum(term, size) / count
                                        // rstd · (ĝ − meanG − x̂ · meanGX)
                                        Vector.affine(nr, -meanGX, -meanG, term, size)
                                        Vector.add(scaled, term, dr, size)
                                        Vector.affine(dr, inv[r], 0, dr, size)
                                        if hasWeight { Vector.multiply(gr, nr, pp.baseAddress! + r * size, size) }
                                    }
                                }
                                if hasWeight { dw.withUnsafeMutableBufferPointer { Vector.columnSums(pp.baseAddress!, $0.baseAddress!, rows: rows, columns: size) } }
                                if hasBias { db.withUnsafeMutableBufferPointer { Vector.columnSums(g, $0.baseAddress!, rows: rows, columns: size) } }
                            }
                        }
                    }
                }
            }
        }
    }
    var result = [Tensor(shape: cotangent.shape, scalars: dx)]
    if weight != nil { result.append(Tensor(shape: [size], scalars: dw)) }
    if hasBias { result.append(Tensor(shape: [size], scalars: db)) }
    return result
}
