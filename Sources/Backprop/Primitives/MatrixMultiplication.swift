// Matrix products, 2-D and batched over leading axes, with their pullbacks
// ∂L/∂A = G·Bᵀ and ∂L/∂B = Aᵀ·G (transposes are read in place by the kernel, never materialised).

extension Tensor {
    /// Batched product of matrices stored back to back: (batch, m, k) · (batch, k, n), with operands
    /// optionally read transposed.
    static func batchedProduct(
        _ a: Tensor, _ b: Tensor, batch: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool
    ) -> [Scalar] {
        // gemm with beta = 0 writes every element of C (zeros when k == 0) without reading it, so the
        // output needs no zero-filling first.
        let count = batch * m * n
        return [Scalar](unsafeUninitializedCapacity: count) { cp, initialized in
            if count > 0 {
                a.withScalarBuffer { ap in
                    b.withScalarBuffer { bp in
                        for i in 0..<batch {
                            gemm(
                                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                                a: ap.baseAddress! + i * m * k, lda: transposeA ? m : k,
                                b: bp.baseAddress! + i * k * n, ldb: transposeB ? k : n,
                                beta: 0, c: cp.baseAddress! + i * m * n, ldc: n)
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
    precondition(a.rank >= 2 && b.rank >= 2, "matmul: needs matrices, got shapes \(a.shape) and \(b.shape)")
    let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
    let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
    precondition(k == k2, "matmul: inner dimensions differ, shapes \(a.shape) and \(b.shape)")
    if a.rank == 2 && b.rank == 2 {
        let out = Tensor(shape: [m, n], buffer: Tensor.batchedProduct(a, b, batch: 1, m: m, n: n, k: k, transposeA: false, transposeB: false))
        return out.recorded("matmul", inputs: [a, b]) { g in
            [
                a.isTracked ? Tensor(shape: [m, k], buffer: Tensor.batchedProduct(g, b, batch: 1, m: m, n: k, k: n, transposeA: false, transposeB: true)) : nil,
                b.isTracked ? Tensor(shape: [k, n], buffer: Tensor.batchedProduct(a, g, batch: 1, m: k, n: n, k: m, transposeA: true, transposeB: false)) : nil,
            ]
        }
    }
    // Batched: broadcast the batch axes (differentiably), then multiply matrix by matrix.
    let batchShape = broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), operation: "matmul")
    let fullA = a.broadcasted(to: batchShape + [m, k])
    let fullB = b.broadcasted(to: batchShape + [k, n])
    let batch = batchShape.reduce(1, *)
    let out = Tensor(shape: batchShape + [m, n], buffer: Tensor.batchedProduct(fullA, fullB, batch: batch, m: m, n: n, k: k, transposeA: false, transposeB: false))
    return out.recorded("matmul", inputs: [fullA, fullB]) { g in
        [
            Tensor(shape: batchShape + [m, k], buffer: Tensor.batchedProduct(g, fullB, batch: batch, m: m, n: k, k: n, transposeA: false, transposeB: true)),
            Tensor(shape: batchShape + [k, n], buffer: Tensor.batchedProduct(fullA, g, batch: batch, m: k, n: n, k: m, transposeA: true, transposeB: false)),
        ]
    }
}

/// The matrix product op(a)·op(b) of two matrices, where op transposes its operand when asked: the
/// transposes are read in place by the kernel, never materialised. `matmul(x, w, transposeB: true)` is
/// x·wᵀ, a linear layer with PyTorch's `[out, in]` weight layout.
///
/// Pullbacks, with G the gradient of the product: ∂op(a) = G·op(b)ᵀ and ∂op(b) = op(a)ᵀ·G, each
/// written straight into the layout its operand is stored in.
///
/// - Precondition: `a` and `b` are matrices (rank 2) whose inner dimensions agree after the transposes.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func matmul<Scalar>(
    _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposeA: Bool = false, transposeB: Bool = false
) -> Tensor<Scalar> {
    if !transposeA && !transposeB { return matmul(a, b) }
    precondition(
        a.rank == 2 && b.rank == 2,
        "matmul(transposeA:transposeB:): needs matrices, got shapes \(a.shape) and \(b.shape)")
    let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
    let k2 = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
    precondition(
        k == k2,
        "matmul: inner dimensions differ, shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "")")
    let out = Tensor(
        shape: [m, n],
        buffer: Tensor.batchedProduct(a, b, batch: 1, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB))
    return out.recorded("matmul", inputs: [a, b]) { g in
        let gradientA: Tensor<Scalar>? =
            !a.isTracked ? nil
            : transposeA
                // a is stored k×m: ∂a = op(b)·Gᵀ.
                ? Tensor(shape: [k, m], buffer: Tensor.batchedProduct(b, g, batch: 1, m: k, n: m, k: n, transposeA: transposeB, transposeB: true))
                // a is stored m×k: ∂a = G·op(b)ᵀ.
                : Tensor(shape: [m, k], buffer: Tensor.batchedProduct(g, b, batch: 1, m: m, n: k, k: n, transposeA: false, transposeB: !transposeB))
        let gradientB: Tensor<Scalar>? =
            !b.isTracked ? nil
            : transposeB
                // b is stored n×k: ∂b = Gᵀ·op(a).
                ? Tensor(shape: [n, k], buffer: Tensor.batchedProduct(g, a, batch: 1, m: n, n: k, k: m, transposeA: true, transposeB: transposeA))
                // b is stored k×n: ∂b = op(a)ᵀ·G.
                : Tensor(shape: [k, n], buffer: Tensor.batchedProduct(a, g, batch: 1, m: k, n: n, k: m, transposeA: !transposeA, transposeB: false))
        return [gradientA, gradientB]
    }
}
