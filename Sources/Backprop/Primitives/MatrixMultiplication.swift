// Matrix products, 2-D and batched over leading axes, with their pullbacks
// ∂L/∂A = G·Bᵀ and ∂L/∂B = Aᵀ·G (transposes are read in place by the kernel, never materialised).

extension Tensor {
    /// Batched product of matrices stored back to back: (batch, m, k) · (batch, k, n), with operands
    /// optionally read transposed.
    static func batchedProduct(
        _ a: Tensor, _ b: Tensor, batch: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
        plus second: (a: Tensor, b: Tensor)? = nil
    ) -> [Scalar] {
        // gemm with beta = 0 writes every element of C (zeros when k == 0) without reading it, so the
        // output needs no zero-filling first. A second product of the same shapes accumulates onto the
        // first (beta = 1): op(a)·op(b) + op(a₂)·op(b₂) with one output and no separate addition.
        let count = batch * m * n
        let secondA = second?.a ?? a, secondB = second?.b ?? b
        return [Scalar](unsafeUninitializedCapacity: count) { cp, initialized in
            if count > 0 {
                a.withScalarBuffer { ap in
                  b.withScalarBuffer { bp in
                   secondA.withScalarBuffer { sap in
                    secondB.withScalarBuffer { sbp in
                        let pointers = BatchPointers(a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!)
                        let secondPointers = second == nil ? nil : BatchPointers(a: sap.baseAddress!, b: sbp.baseAddress!, c: cp.baseAddress!)
                        @Sendable func multiply(_ operands: BatchPointers<Scalar>, _ i: Int, beta: Scalar) {
                            gemm(
                                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                                a: operands.a + i * m * k, lda: transposeA ? m : k,
                                b: operands.b + i * k * n, ldb: transposeB ? k : n,
                                beta: beta, c: operands.c + i * m * n, ldc: n)
                        }
                        @Sendable func multiply(_ i: Int) {
                            multiply(pointers, i, beta: 0)
                            if let secondPointers { multiply(secondPointers, i, beta: 1) }
                        }
                        forEachBatchedProduct(batch: batch, m: m, n: n, k: k) { multiply($0) }
                    }
                   }
                  }
                }
            }
            initialized = count
        }
    }
}

/// The matrix product of `a` and `b`.
///
/// Both must have rank ≥ 2: the last two axes are the matrices (m×k times k×n) and leading axes are
/// batch axes, broadcast with NumPy rules.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func matmul<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
    matmul(a, b, transposeA: false, transposeB: false)
}

/// The matrix product op(a)·op(b), where op transposes the last two axes of its operand when asked: the
/// transposes are read in place by the kernel, never materialised. `matmul(x, w, transposeB: true)` is
/// x·wᵀ, a linear layer with PyTorch's `[out, in]` weight layout.
///
/// Operands of rank > 2 are batches of matrices; their leading (batch) axes are broadcast with NumPy
/// rules. Pullbacks, with G the gradient of the product: ∂op(a) = G·op(b)ᵀ and ∂op(b) = op(a)ᵀ·G, each
/// written straight into the layout its operand is stored in (and summed over broadcast batch axes).
///
/// - Precondition: both operands have rank ≥ 2 and their inner dimensions agree after the transposes.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func matmul<Scalar>(
    _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposeA: Bool = false, transposeB: Bool = false
) -> Tensor<Scalar> {
    func marks() -> String { "\(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "")" }
    precondition(a.rank >= 2 && b.rank >= 2, "matmul: needs matrices, got shapes \(marks())")
    let ra = a.rank, rb = b.rank
    let m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2], k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1]
    let k2 = transposeB ? b.shape[rb - 1] : b.shape[rb - 2], n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1]
    precondition(k == k2, "matmul: inner dimensions differ, shapes \(marks())")
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    if batchB.isEmpty && !batchA.isEmpty && !transposeA {
        // A batch of matrices times one matrix: the batch folds into the rows of one product, instead of
        // copying b once per batch element.
        let rows = batchA.reduce(m, *)
        return Tensor.matrixProduct(
            a.reshaped(to: [rows, k]), b, batch: [], m: rows, n: n, k: k, transposeA: false, transposeB: transposeB
        ).reshaped(to: batchA + [m, n])
    }
    if batchA == batchB {
        return Tensor.matrixProduct(a, b, batch: batchA, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
    }
    // Broadcast the batch axes (differentiably: the pullback sums over them), then multiply.
    let batch = broadcastShape(batchA, batchB, operation: "matmul")
    let fullA = a.broadcasted(to: batch + Array(a.shape.suffix(2)))
    let fullB = b.broadcasted(to: batch + Array(b.shape.suffix(2)))
    return Tensor.matrixProduct(fullA, fullB, batch: batch, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
}

extension Tensor {
    /// The product of two batches of matrices with the same batch shape, as one recorded primitive whose
    /// derivatives are products of the same kind (so they can be differentiated again).
    static func matrixProduct(
        _ a: Tensor, _ b: Tensor, batch: [Int], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool
    ) -> Tensor {
        let count = batch.reduce(1, *)
        let trackA = a.isTracked, trackB = b.isTracked
        // The formulas below broadcast over leading batch axes, so they serve batches of cotangents and
        // tangents (a leading seed axis) unchanged.
        let vjp: (Tensor, [Tensor]) -> [Tensor?] = { g, saved in
            let a = saved[0], b = saved[1]
            let gradientA: Tensor? =
                !trackA ? nil
                : transposeA
                    // a is stored k×m: ∂a = op(b)·Gᵀ.
                    ? matmul(b, g, transposeA: transposeB, transposeB: true)
                    // a is stored m×k: ∂a = G·op(b)ᵀ.
                    : matmul(g, b, transposeA: false, transposeB: !transposeB)
            let gradientB: Tensor? =
                !trackB ? nil
                : transposeB
                    // b is stored n×k: ∂b = Gᵀ·op(a).
                    ? matmul(g, a, transposeA: true, transposeB: transposeA)
                    // b is stored k×n: ∂b = op(a)ᵀ·G.
                    : matmul(a, g, transposeA: !transposeA, transposeB: false)
            return [gradientA, gradientB]
        }
        let jvp: ([Tensor?], [Tensor]) -> Tensor? = { t, saved in
            // d(op(a)·op(b)) = op(ȧ)·op(b) + op(a)·op(ḃ).
            if fusedRulesAllowed(), let ta = t[0], let tb = t[1], ta.shape == saved[0].shape, tb.shape == saved[1].shape {
                // First order and one tangent per operand (not a batch of them): both products into one
                // output, the second accumulating onto the first.
                return Tensor(
                    shape: batch + [m, n],
                    buffer: batchedProduct(
                        ta, saved[1], batch: count, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                        plus: (saved[0], tb)))
            }
            let fromA = t[0].map { matmul($0, saved[1], transposeA: transposeA, transposeB: transposeB) }
            let fromB = t[1].map { matmul(saved[0], $0, transposeA: transposeA, transposeB: transposeB) }
            return fromA.map { fa in fromB.map { fa + $0 } ?? fa } ?? fromB
        }
        // Inside a recording sweep the product's value may never be read (a weight gradient under
        // forward-over-reverse): record it deferred, computed on first read (Engine/DeferredValues.swift).
        let shape = batch + [m, n]
        if let deferred = recordedDeferred(
            shape: shape, "matmul", inputs: [a, b], saving: [a, b], vjp: vjp, jvp: jvp, batchedVJP: vjp, batchedJVP: jvp,
            compute: { [a = a.detached(), b = b.detached()] in
                batchedProduct(a, b, batch: count, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
            })
        {
            return deferred
        }
        var out = Tensor(
            shape: shape,
            buffer: batchedProduct(a, b, batch: count, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB))
        if a.isTraced || b.isTraced {
            out = out.traced(.matmul(transposeA: transposeA, transposeB: transposeB), [a, b]) {
                matrixProduct($0[0], $0[1], batch: batch, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
            }
        }
        return out.recorded("matmul", inputs: [a, b], saving: [a, b], vjp: vjp, jvp: jvp, batchedVJP: vjp, batchedJVP: jvp)
    }
}
