// Reshaping, broadcasting, transposition, squeezing and expanding: values move, none change.

extension Tensor {
    /// The same values with a new shape; one dimension may be -1 and is then inferred.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        if let hole = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != hole }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && scalarCount % known == 0, "reshaped(to:): cannot reshape \(shape) to \(newShape)")
            target[hole] = scalarCount / known
        }
        precondition(
            target.allSatisfy { $0 >= 0 } && target.reduce(1, *) == scalarCount,
            "reshaped(to:): cannot reshape \(shape) (\(scalarCount) values) to \(newShape)")
        if target == shape { return self }
        var out = Tensor(shape: target, buffer: shape.isEmpty ? [scalarValue] : buffer)
        if isTraced { out = out.traced(.reshape, [self]) { $0[0].reshaped(to: target) } }
        return out.recorded("reshape", inputs: [self], rule: DerivativeRule(.reshape(ReshapeRule(inputShape: shape, target: target))))
    }

    /// The same values with a new shape; one dimension may be -1 and is then inferred.
    public func reshaped(to newShape: Int...) -> Tensor { reshaped(to: newShape) }

    /// This tensor broadcast to `target` (NumPy rules), with values repeated along stretched axes.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func broadcasted(to target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(
            broadcastShape(shape, target, operation: "broadcasted(to:)") == target,
            "broadcasted(to:): shape \(shape) cannot be broadcast to \(target)")
        let count = target.reduce(1, *)
        let strides = broadcastStrides(shape, to: target)
        let values = withScalarBuffer { p in
            [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
                forEachBroadcastOffset(target, strides, strides) { i, ia, _ in out[i] = p[ia] }
                initialized = count
            }
        }
        let inputShape = shape
        var out = Tensor(shape: target, buffer: values)
        if isTraced { out = out.traced(.broadcast, [self]) { $0[0].broadcasted(to: target) } }
        return out.recorded(
            "broadcast", inputs: [self],
            vjp: { g, _ in [g.summed(toShape: inputShape)] },
            jvp: { t, _ in t[0]?.broadcasted(to: target) },
            batchedVJP: { g, _ in [g.summed(toBatchOf: inputShape)] },
            batchedJVP: { t, _ in t[0].map { $0.batchAligned(toRank: target.count).broadcasted(to: [$0.shape[0]] + target) } })
    }

    /// The axes in reverse order (for a matrix, its transpose).
    public func transposed() -> Tensor { transposed(permutation: Array((0..<rank).reversed())) }

    /// The axes reordered: axis `i` of the result is axis `permutation[i]` of this tensor.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func transposed(permutation: [Int]) -> Tensor {
        precondition(
            permutation.sorted() == Array(0..<rank),
            "transposed(permutation:): \(permutation) is not a permutation of the axes of shape \(shape)")
        if permutation == Array(0..<rank) { return self }
        let outShape = permutation.map { shape[$0] }
        let own = contiguousStrides(shape)
        let strides = permutation.map { own[$0] }
        let count = scalarCount
        let values = withScalarBuffer { p in
            [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
                if rank >= 2 && permutation == Array(0..<(rank - 2)) + [rank - 1, rank - 2] {
                    // A batch of matrices, each transposed by the C kernel in register blocks (NHWC → NCHW
                    // after a convolution's product, or a plain 2-D transpose).
                    let rows = shape[rank - 2], cols = shape[rank - 1]
                    let matrices = shape[..<(rank - 2)].reduce(1, *)
                    let pointers = LoopPointers(inputs: [p.baseAddress!], output: out.baseAddress!)
                    // Large batches are split across the cores by matrix.
                    let parts = count >= elementwiseParallelThreshold ? Swift.min(parallelThreadCount, matrices) : 1
                    let chunk = (matrices + parts - 1) / Swift.max(parts, 1)
                    let body: @Sendable (Int) -> Void = { part in
                    for m in (part * chunk)..<Swift.min(matrices, (part + 1) * chunk) {
                        let source = pointers.inputs[0] + m * rows * cols, target = pointers.output + m * rows * cols
                        matrixTranspose(rows: rows, columns: cols, source, target)
                    }
                    }
                    if parts > 1 { concurrentPerformKeepingKernelPath(iterations: parts, body) } else if matrices > 0 { body(0) }
                } else if let keep = permutation.indices.last(where: { permutation[$0] != $0 }).map({ $0 + 1 }), keep < rank {
                    // The trailing axes keep their order (NCHW ↔ CNHW, [O, N, L] → [N, O, L]): copy whole
                    // contiguous runs instead of single elements.
                    let run = shape[keep...].reduce(1, *)
                    let outer = Array(outShape[..<keep]), outerStrides = strides[..<keep].map { $0 / run }
                    forEachBroadcastOffset(outer, outerStrides, outerStrides) { i, ia, _ in
                        (out.baseAddress! + i * run).initialize(from: p.baseAddress! + ia * run, count: run)
                    }
                } else {
                    forEachBroadcastOffset(outShape, strides, strides) { i, ia, _ in out[i] = p[ia] }
                }
                initialized = count
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        var out = Tensor(shape: outShape, buffer: values)
        if isTraced { out = out.traced(.transpose(permutation), [self]) { $0[0].transposed(permutation: permutation) } }
        return out.recorded(
            "transpose", inputs: [self],
            vjp: { g, _ in [g.transposed(permutation: inverse)] },
            jvp: { t, _ in t[0]?.transposed(permutation: permutation) },
            batchedVJP: { g, _ in [g.transposed(permutation: [0] + inverse.map { $0 + 1 })] },
            batchedJVP: { t, _ in t[0]?.transposed(permutation: [0] + permutation.map { $0 + 1 }) })
    }

    /// Removes the given axes, each of which must have size 1; with no axes, removes every axis of size 1.
    public func squeezed(axes: [Int] = []) -> Tensor {
        let normalized = axes.map { $0 < 0 ? $0 + rank : $0 }
        for (given, axis) in zip(axes, normalized) {
            precondition(axis >= 0 && axis < rank && shape[axis] == 1, "squeezed(axes:): axis \(given) of shape \(shape) does not have size 1")
        }
        let newShape = shape.enumerated().filter { normalized.isEmpty ? $0.element != 1 : !normalized.contains($0.offset) }.map(\.element)
        return reshaped(to: newShape)
    }

    /// Inserts an axis of size 1 at `axis` (negative counts from the end of the result).
    public func expandingShape(at axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        precondition(a >= 0 && a <= rank, "expandingShape(at:): axis \(axis) out of range for shape \(shape)")
        var newShape = shape
        newShape.insert(1, at: a)
        return reshaped(to: newShape)
    }
}

/// The derivative rule of `reshaped(to:)`, recorded as its two shapes: the VJP reshapes the cotangent back to
/// the input's shape, the JVP reshapes the tangent to the output's.
struct ReshapeRule {
    /// The input's shape and the output's.
    let inputShape: [Int], target: [Int]

    /// The input's cotangent.
    func vjp<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> { g.reshaped(to: inputShape) }

    /// The output's tangent.
    func jvp<S: TensorScalar>(_ t: Tensor<S>) -> Tensor<S> { t.reshaped(to: target) }

    /// The input's cotangents, stacked along a new leading axis.
    func batchedVJP<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> { g.reshaped(to: [g.shape[0]] + inputShape) }

    /// The output's tangents, stacked along a new leading axis.
    func batchedJVP<S: TensorScalar>(_ t: Tensor<S>) -> Tensor<S> { t.reshaped(to: [t.shape[0]] + target) }
}
