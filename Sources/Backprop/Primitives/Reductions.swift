// Sums, means and maxima over all elements or chosen axes, with their pullbacks.

extension Tensor {
    /// Normalises possibly negative axes and checks them against the rank.
    func normalizedAxes(_ axes: [Int], operation: String) -> [Int] {
        let result = axes.map { $0 < 0 ? $0 + rank : $0 }
        for (given, axis) in zip(axes, result) {
            precondition(axis >= 0 && axis < Swift.max(rank, 1), "\(operation): axis \(given) out of range for shape \(shape)")
        }
        return Array(Set(result)).sorted()
    }

    /// The shape with each reduced axis set to 1.
    func keptShape(reducing axes: [Int]) -> [Int] {
        var kept = shape
        for axis in axes where axis < rank { kept[axis] = 1 }
        return kept
    }

    /// The sum of all elements, as a rank-0 tensor.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func sum() -> Tensor {
        if shape.isEmpty { return self }
        let total = withScalarBuffer { p in
            var s0: Scalar = 0, s1: Scalar = 0, s2: Scalar = 0, s3: Scalar = 0
            var i = 0
            while i + 4 <= p.count {
                s0 += p[i]; s1 += p[i + 1]; s2 += p[i + 2]; s3 += p[i + 3]
                i += 4
            }
            while i < p.count { s0 += p[i]; i += 1 }
            return (s0 + s1) + (s2 + s3)
        }
        let inputShape = shape
        var out = Tensor(total)
        if isTraced { out = out.traced(.sum(axes: Array(0..<rank)), [self]) { $0[0].sum() } }
        return out.recorded(
            "sum", inputs: [self],
            vjp: { g, _ in
                [fusedRulesAllowed() ? Tensor(repeating: g.scalar, shape: inputShape) : g.broadcasted(to: inputShape)]
            },
            jvp: { t, _ in t[0]?.sum() },
            batchedVJP: { g, _ in
                [g.reshaped(to: [g.shape[0]] + [Int](repeating: 1, count: inputShape.count)).broadcasted(to: [g.shape[0]] + inputShape)]
            },
            batchedJVP: { t, _ in t[0]?.sum(alongAxes: Array(1...Swift.max(inputShape.count, 1))).reshaped(to: [t[0]!.shape[0]]) })
    }

    /// The sum along `axes` (negative axes count from the end); reduced axes are kept with size 1 when
    /// `keepingDimensions` is true, removed otherwise.
    public func sum(alongAxes axes: Int..., keepingDimensions: Bool = false) -> Tensor {
        sum(alongAxes: axes, keepingDimensions: keepingDimensions)
    }

    /// The sum along `axes` (negative axes count from the end); reduced axes are kept with size 1 when
    /// `keepingDimensions` is true, removed otherwise.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, operation: "sum(alongAxes:)")
        let kept = keptShape(reducing: axes)
        var out = [Scalar](repeating: 0, count: kept.reduce(1, *))
        // A contiguous block of axes a0...a1 splits the tensor into outer × n × inner: each output is a sum
        // of n rows of `inner` values, which the vectorised kernels do (per-row sums when inner is 1).
        let contiguous = !axes.isEmpty && axes == Array(axes[0]...axes[axes.count - 1]) && !shape.isEmpty
        withScalarBuffer { p in
            out.withUnsafeMutableBufferPointer { o in
                if contiguous && p.count > 0 {
                    let outer = shape[..<axes[0]].reduce(1, *)
                    let n = shape[axes[0]...axes[axes.count - 1]].reduce(1, *)
                    let inner = shape[(axes[axes.count - 1] + 1)...].reduce(1, *)
                    for b in 0..<outer {
                        if inner == 1 {
                            o[b] = vectorSum(p.baseAddress! + b * n, count: n)
                        } else {
                            columnSums(p.baseAddress! + b * n * inner, o.baseAddress! + b * inner, rows: n, columns: inner)
                        }
                    }
                } else if p.count > 0 {
                    // Reduced and kept axes interleave (NCHW's [0, 2, 3]): whole rows at a time.
                    forEachReductionRow(shape, axes) { input, output, length, rowReduced in
                        let row = p.baseAddress! + input
                        if rowReduced {
                            o[output] += vectorSum(row, count: length)
                        } else {
                            let target = o.baseAddress! + output
                            for j in 0..<length { target[j] += row[j] }
                        }
                    }
                }
            }
        }
        let inputShape = shape
        var value = Tensor(shape: kept, buffer: out)
        if isTraced { value = value.traced(.sum(axes: axes), [self]) { $0[0].sum(alongAxes: axes, keepingDimensions: true) } }
        let result = value.recorded(
            "sum", inputs: [self],
            vjp: { g, _ in [g.broadcasted(to: inputShape)] },
            jvp: { t, _ in t[0]?.sum(alongAxes: axes, keepingDimensions: true) },
            batchedVJP: { g, _ in [g.broadcasted(to: [g.shape[0]] + inputShape)] },
            batchedJVP: { t, _ in t[0]?.sum(alongAxes: axes.map { $0 + 1 }, keepingDimensions: true) })
        return keepingDimensions ? result : result.reshaped(to: kept.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }

    /// The mean of all elements, as a rank-0 tensor.
    public func mean() -> Tensor { sum() / Scalar(Swift.max(scalarCount, 1)) }

    /// The mean along `axes`, keeping the reduced axes with size 1 when `keepingDimensions` is true.
    public func mean(alongAxes axes: Int..., keepingDimensions: Bool = false) -> Tensor {
        mean(alongAxes: axes, keepingDimensions: keepingDimensions)
    }

    /// The mean along `axes`, keeping the reduced axes with size 1 when `keepingDimensions` is true.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let normalized = normalizedAxes(axes, operation: "mean(alongAxes:)")
        let count = normalized.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: normalized, keepingDimensions: keepingDimensions) / Scalar(Swift.max(count, 1))
    }

    /// The largest element, as a rank-0 tensor. The gradient goes to the first largest element.
    public func max() -> Tensor {
        shape.isEmpty ? self : max(alongAxes: Array(0..<rank))
    }

    /// The largest elements along `axes`, keeping the reduced axes with size 1 when `keepingDimensions` is
    /// true. The gradient of each output goes to the first of its largest inputs.
    public func max(alongAxes axes: Int..., keepingDimensions: Bool = false) -> Tensor {
        max(alongAxes: axes, keepingDimensions: keepingDimensions)
    }

    /// The largest elements along `axes`, keeping the reduced axes with size 1 when `keepingDimensions` is
    /// true. The gradient of each output goes to the first of its largest inputs.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func max(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        precondition(scalarCount > 0, "max(alongAxes:): empty tensor of shape \(shape)")
        let axes = normalizedAxes(axes, operation: "max(alongAxes:)")
        let kept = keptShape(reducing: axes)
        let (maxima, positions) = maxima(alongAxes: axes)
        // The gradient of each output goes to the position of its maximum (a linear map with fixed
        // positions, so the rule is the same at every order); the tangent is read from there. The positions
        // travel with the input, so that a traced replay finds them again in its own values.
        let inputShape = shape
        let routing = FlatRouting(positions: positions, source: detached()) { x in x.maxima(alongAxes: axes).positions }
        var value = Tensor(shape: kept, buffer: maxima)
        if isTraced { value = value.traced(.max(axes: axes), [self]) { $0[0].max(alongAxes: axes, keepingDimensions: true) } }
        let result = value.recorded(
            "max", inputs: [self],
            vjp: { g, _ in [g.scatteringFlat(routing, shape: inputShape)] },
            jvp: { t, _ in t[0]?.gatheringFlat(routing, shape: kept) })
        return keepingDimensions ? result : result.reshaped(to: kept.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }

    /// The largest elements along `axes` (normalised) and the flat position of each one's first occurrence (a NaN
    /// wins), in the kept-dimensions layout.
    func maxima(alongAxes axes: [Int]) -> (values: [Scalar], positions: [Int]) {
        let outCount = keptShape(reducing: axes).reduce(1, *)
        var out = [Scalar](repeating: -.infinity, count: outCount)
        var argmax = [Int](repeating: -1, count: outCount)
        withScalarBuffer { p in
            out.withUnsafeMutableBufferPointer { o in
                argmax.withUnsafeMutableBufferPointer { a in
                    // Rows in increasing input order, so a strict comparison keeps the first maximum.
                    forEachReductionRow(shape, axes) { input, output, length, rowReduced in
                        let row = p.baseAddress! + input
                        if rowReduced {
                            var best = o[output], at = a[output]
                            for j in 0..<length where at < 0 || row[j] > best || (row[j].isNaN && !best.isNaN) {
                                best = row[j]
                                at = input + j
                            }
                            o[output] = best
                            a[output] = at
                        } else {
                            for j in 0..<length where a[output + j] < 0 || row[j] > o[output + j] || (row[j].isNaN && !o[output + j].isNaN) {
                                o[output + j] = row[j]
                                a[output + j] = input + j
                            }
                        }
                    }
                }
            }
        }
        return (out, argmax)
    }
}

/// Visits a tensor of `shape` row by row for a reduction along `axes` (sorted, distinct): adjacent axes that
/// are all reduced or all kept are merged, axes of size 1 dropped, and the last merged run is the row. For
/// each row, `body(inputOffset, outputOffset, length, reduced)` gets the row's first element, the output
/// element it reduces into (`reduced`: the whole row into one output) or the output row it combines with
/// element by element (`!reduced`), and the row's length. Rows come in increasing input order.
func forEachReductionRow(_ shape: [Int], _ axes: [Int], _ body: (Int, Int, Int, Bool) -> Void) {
    var groups: [(size: Int, reduced: Bool)] = []
    for (axis, size) in shape.enumerated() where size != 1 {
        let reduced = axes.contains(axis)
        if let last = groups.last, last.reduced == reduced {
            groups[groups.count - 1].size *= size
        } else {
            groups.append((size, reduced))
        }
    }
    guard let row = groups.last else {
        body(0, 0, 1, true)
        return
    }
    guard shape.reduce(1, *) > 0 else { return }
    let outer = Array(groups.dropLast())
    // The output stride of each kept group: kept groups laid out row-major in order, the row's run last.
    var strides = [Int](repeating: 0, count: outer.count)
    var stride = row.reduced ? 1 : row.size
    for g in outer.indices.reversed() where !outer[g].reduced {
        strides[g] = stride
        stride *= outer[g].size
    }
    let rows = outer.reduce(1) { $0 * $1.size }
    var index = [Int](repeating: 0, count: outer.count)
    var output = 0
    for r in 0..<rows {
        body(r * row.size, output, row.size, row.reduced)
        // Advance the mixed-radix counter and the output offset with it.
        var g = outer.count - 1
        while g >= 0 {
            index[g] += 1
            output += strides[g]
            if index[g] < outer[g].size { break }
            output -= strides[g] * outer[g].size
            index[g] = 0
            g -= 1
        }
    }
}
