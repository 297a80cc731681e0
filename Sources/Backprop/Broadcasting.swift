/// NumPy broadcasting: shapes are aligned at their last dimension; a dimension of size 1 (or a missing
/// one) stretches to match the other.
@usableFromInline
func broadcastShape(_ a: [Int], _ b: [Int], operation: String) -> [Int] {
    if a == b { return a }
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        guard da == db || da == 1 || db == 1 else {
            preconditionFailure("\(operation): shapes \(a) and \(b) cannot be broadcast together")
        }
        result[i] = da == 1 ? db : da
    }
    return result
}

/// Row-major strides of `shape`.
@usableFromInline
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

/// Strides that read a tensor of `shape` as if it had been broadcast to `target` (0 on stretched axes).
@usableFromInline
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let offset = target.count - shape.count
    return (0..<target.count).map { i in
        i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
    }
}

/// Calls `body(i, a, b)` for every position `i` (row-major) of `shape`, or for those in `positions`, with the
/// matching offsets into two operands read through `stridesA` and `stridesB`.
@inline(__always) @usableFromInline
func forEachBroadcastOffset(
    _ shape: [Int], _ stridesA: [Int], _ stridesB: [Int], in positions: Range<Int>? = nil,
    _ body: (Int, Int, Int) -> Void
) {
    let range = positions ?? 0..<shape.reduce(1, *)
    guard !range.isEmpty else { return }
    guard let last = shape.indices.last else {
        body(0, 0, 0)
        return
    }
    let inner = shape[last]
    let sa = stridesA[last], sb = stridesB[last]
    // The index of the first position, and the offsets of its row.
    var index = [Int](repeating: 0, count: shape.count)
    var rest = range.lowerBound, baseA = 0, baseB = 0
    for axis in shape.indices.reversed() {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
        if axis < last {
            baseA += index[axis] * stridesA[axis]
            baseB += index[axis] * stridesB[axis]
        }
    }
    var i = range.lowerBound, column = index[last]
    while i < range.upperBound {
        var oa = baseA + column * sa, ob = baseB + column * sb
        for _ in 0..<Swift.min(inner - column, range.upperBound - i) {
            body(i, oa, ob)
            i += 1
            oa += sa
            ob += sb
        }
        column = 0
        // Advance the outer index (all axes but the last).
        var axis = last - 1
        while axis >= 0 {
            index[axis] += 1
            baseA += stridesA[axis]
            baseB += stridesB[axis]
            if index[axis] < shape[axis] { break }
            baseA -= stridesA[axis] * shape[axis]
            baseB -= stridesB[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}

extension Tensor {
    /// Sums this tensor (a gradient of the broadcast shape) down to `target`, undoing broadcasting.
    @usableFromInline
    func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let offset = rank - target.count
        var axes: [Int] = Array(0..<offset)
        for i in 0..<target.count where target[i] == 1 && shape[i + offset] != 1 {
            axes.append(i + offset)
        }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(to: target)
    }
}

extension Tensor {
    /// A batch `[k] + s` viewed with 1s inserted after the batch axis so that it has `rank + 1` axes and
    /// broadcasts against `[k] + shape` for any `shape` of rank `rank` that `s` broadcasts to.
    func batchAligned(toRank rank: Int) -> Tensor {
        let inner = Array(shape.dropFirst())
        guard inner.count < rank else { return self }
        return reshaped(to: [shape[0]] + [Int](repeating: 1, count: rank - inner.count) + inner)
    }

    /// Sums a batch of gradients `[k] + broadcast shape` down to `[k] + target`, undoing broadcasting in
    /// each element of the batch.
    func summed(toBatchOf target: [Int]) -> Tensor {
        let k = shape[0], inner = rank - 1
        let aligned = [k] + [Int](repeating: 1, count: Swift.max(inner - target.count, 0)) + target
        return summed(toShape: aligned).reshaped(to: [k] + target)
    }
}
