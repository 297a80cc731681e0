
// Scaled dot-product attention of every head as one recorded primitive: each head's products read the
// queries, keys and values where the projections wrote them ([N, L, E], head h in columns h·D..<(h+1)·D) and
// write the output the same way, so no head is ever transposed out and back; the softmax of a causal head runs
// over the visible keys only. Heads run in parallel. Higher orders and forward mode follow the composition
// `attentionReference` (split heads, products, masked softmax, join heads).

/// softmax(scale · q_h k_hᵀ (+ causal mask)) v_h for every batch element and head h, joined back to
/// `[N, L, E]`; `q` is `[N, L, E]`, `k` and `v` are `[N, S, E]`.
func fusedAttention<Scalar>(query q: Tensor<Scalar>, key k: Tensor<Scalar>, value v: Tensor<Scalar>, heads: Int, isCausal: Bool) -> Tensor<Scalar> {
    fusedPrimitive(
        named: isCausal ? "causalAttention" : "attention", at: [q, k, v],
        forward: { attentionForward($0[0], $0[1], $0[2], heads: heads, isCausal: isCausal, cache: $1) },
        backward: { inputs, _, cotangent, cache in
            attentionBackward(inputs[0], inputs[1], inputs[2], cotangent, heads: heads, cache: cache)
        },
        reference: { attentionReference($0[0], $0[1], $0[2], heads: heads, isCausal: isCausal) })
}

/// The same as tensor operations: heads split out by a transpose, the scaled scores masked as
/// `MultiHeadAttention` masks them, a softmax, the product with the values, the heads joined.
func attentionReference<Scalar>(_ q: Tensor<Scalar>, _ k: Tensor<Scalar>, _ v: Tensor<Scalar>, heads: Int, isCausal: Bool) -> Tensor<Scalar> {
    let (n, l, e, s) = (q.shape[0], q.shape[1], q.shape[2], k.shape[1])
    let d = e / heads
    func split(_ x: Tensor<Scalar>, _ length: Int) -> Tensor<Scalar> {
        x.reshaped(to: [n, length, heads, d]).transposed(permutation: [0, 2, 1, 3])
    }
    var scores = matmul(split(q, l), split(k, s), transposeB: true) * Scalar(1 / Double(d).squareRoot())
    if isCausal {
        scores = scores + MultiHeadAttention<Scalar>.hiddenScores(batch: 1, queries: l, keys: s, keyPaddingMask: nil, isCausal: true)!
    }
    return matmul(scores.softmax(alongAxis: -1), split(v, s)).transposed(permutation: [0, 2, 1, 3]).reshaped(to: [n, l, e])
}

/// C = alpha·op(A)·op(B) through the scalar type's GEMM kernel (a head's small products stay on the calling thread).
@inline(__always)
private func product<Scalar: TensorScalar>(
    _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Scalar,
    _ a: UnsafePointer<Scalar>, _ lda: Int, _ b: UnsafePointer<Scalar>, _ ldb: Int, _ c: UnsafeMutablePointer<Scalar>, _ ldc: Int
) {
    Scalar._gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                 b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
}

/// The forward pass; the cache keeps every head's weights `[N, H, L, S]` (0 above a causal diagonal).
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func attentionForward<Scalar: TensorScalar>(
    _ q: Tensor<Scalar>, _ k: Tensor<Scalar>, _ v: Tensor<Scalar>, heads: Int, isCausal: Bool, cache: FusedPrimitiveCache<Scalar>?
) -> Tensor<Scalar> {
    let (n, l, e, s) = (q.shape[0], q.shape[1], q.shape[2], k.shape[1])
    let d = e / heads, scale = Scalar(1 / Double(d).squareRoot())
    guard n > 0, l > 0, s > 0 else {
        cache?.values = [[]]
        return Tensor.zeros(shape: [n, l, e])
    }
    var weights = [Scalar](unsafeUninitializedCapacity: n * heads * l * s) { _, initialized in initialized = n * heads * l * s }
    var output = [Scalar](unsafeUninitializedCapacity: n * l * e) { _, initialized in initialized = n * l * e }
    q.withUnsafeScalars { qp in
        k.withUnsafeScalars { kp in
            v.withUnsafeScalars { vp in
                weights.withUnsafeMutableBufferPointer { wp in
                    output.withUnsafeMutableBufferPointer { op in
                        let (q, k, v, w, o) = (qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, wp.baseAddress!, op.baseAddress!)
                        forEachPart(count: n * heads, minimumPerPart: 4) { _, range in
                            for pair in range {
                                let (b, h) = (pair / heads, pair % heads)
                                let scores = w + pair * l * s
                                product(false, true, l, s, d, scale, q + b * l * e + h * d, e, k + b * s * e + h * d, e, scores, s)
                                for i in 0..<l {
                                    let row = scores + i * s, visible = isCausal ? i + 1 : s
                                    var largest = -Scalar.infinity
                                    for j in 0..<visible { largest = Swift.max(largest, row[j]) }
                                    for j in 0..<visible { row[j] -= largest }
                                    VectorFunction.exp.apply(row, row, count: visible)
                                    var sum: Scalar = 0
                                    for j in 0..<visible { sum += row[j] }
                                    let inverse = 1 / sum
                                    for j in 0..<visible { row[j] *= inverse }
                                    for j in visible..<s { row[j] = 0 }
                                }
                                product(false, false, l, d, s, 1, scores, s, v + b * s * e + h * d, e, o + b * l * e + h * d, e)
                            }
                        }
                    }
                }
            }
        }
    }
    cache?.values = [weights]
    return Tensor(shape: [n, l, e], scalars: output)
}

/// The backward pass: with P a head's weights and dO its output's gradient, dP = dO vᵀ, dS = P ∘ (dP − Σ dP ∘ P)
/// row by row, and dq = scale · dS k, dk = scale · dSᵀ q, dv = Pᵀ dO, each written into its head's columns.
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func attentionBackward<Scalar: TensorScalar>(
    _ q: Tensor<Scalar>, _ k: Tensor<Scalar>, _ v: Tensor<Scalar>, _ cotangent: Tensor<Scalar>, heads: Int, cache: FusedPrimitiveCache<Scalar>
) -> [Tensor<Scalar>] {
    let (n, l, e, s) = (q.shape[0], q.shape[1], q.shape[2], k.shape[1])
    let d = e / heads, scale = Scalar(1 / Double(d).squareRoot())
    guard n > 0, l > 0, s > 0 else { return [Tensor.zeros(shape: q.shape), Tensor.zeros(shape: k.shape), Tensor.zeros(shape: v.shape)] }
    var dq = [Scalar](unsafeUninitializedCapacity: n * l * e) { _, initialized in initialized = n * l * e }
    var dk = [Scalar](unsafeUninitializedCapacity: n * s * e) { _, initialized in initialized = n * s * e }
    var dv = [Scalar](unsafeUninitializedCapacity: n * s * e) { _, initialized in initialized = n * s * e }
    // Each part's scratch matrix for dP, then dS.
    let parts = partCount(n * heads, minimumPerPart: 4)
    var scratch = [Scalar](unsafeUninitializedCapacity: parts * l * s) { _, initialized in initialized = parts * l * s }
    q.withUnsafeScalars { qp in
        k.withUnsafeScalars { kp in
            v.withUnsafeScalars { vp in
                cotangent.withUnsafeScalars { gp in
                    cache.values[0].withUnsafeBufferPointer { wp in
                        dq.withUnsafeMutableBufferPointer { dqp in
                            dk.withUnsafeMutableBufferPointer { dkp in
                                dv.withUnsafeMutableBufferPointer { dvp in
                                    scratch.withUnsafeMutableBufferPointer { sp in
                                        let (q, k, v, g, w) = (qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, gp.baseAddress!, wp.baseAddress!)
                                        let (dq, dk, dv, work) = (dqp.baseAddress!, dkp.baseAddress!, dvp.baseAddress!, sp.baseAddress!)
                                        forEachPart(count: n * heads, minimumPerPart: 4) { part, range in
                                            let ds = work + part * l * s
                                            for pair in range {
                                                let (b, h) = (pair / heads, pair % heads)
                                                let p = w + pair * l * s
                                                let (qOffset, kOffset) = (b * l * e + h * d, b * s * e + h * d)
                                                product(false, true, l, s, d, 1, g + qOffset, e, v + kOffset, e, ds, s)
                                                for i in 0..<l {
                                                    let row = ds + i * s, weights = p + i * s
                                                    var dot: Scalar = 0
                                                    for j in 0..<s { dot += row[j] * weights[j] }
                                                    for j in 0..<s { row[j] = weights[j] * (row[j] - dot) }
                                                }
                                                product(false, false, l, d, s, scale, ds, s, k + kOffset, e, dq + qOffset, e)
                                                product(true, false, s, d, l, scale, ds, s, q + qOffset, e, dk + kOffset, e)
                                                product(true, false, s, d, l, 1, p, s, g + qOffset, e, dv + kOffset, e)
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
    }
    return [Tensor(shape: q.shape, scalars: dq), Tensor(shape: k.shape, scalars: dk), Tensor(shape: v.shape, scalars: dv)]
}
