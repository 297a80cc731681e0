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
        return Tensor(total).recorded(
            "sum", inputs: [self],
            vjp: { g, _ in [isRecording ? g.broadcasted(to: inputShape) : Tensor(repeating: g.scalar, shape: inputShape)] },
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
        let outStrides = broadcastStrides(kept, to: shape)
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
                    forEachBroadcastOffset(shape, outStrides, outStrides) { i, io, _ in o[io] += p[i] }
                }
            }
        }
        let inputShape = shape
        let result = Tensor(shape: kept, buffer: out).recorded(
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
        let outCount = kept.reduce(1, *)
        var out = [Scalar](repeating: -.infinity, count: outCount)
        var argmax = [Int](repeating: -1, count: outCount)
        let outStrides = broadcastStrides(kept, to: shape)
        withScalarBuffer { p in
            forEachBroadcastOffset(shape, outStrides, outStrides) { i, io, _ in
                if argmax[io] < 0 || p[i] > out[io] || (p[i].isNaN && !out[io].isNaN) {
                    out[io] = p[i]
                    argmax[io] = i
                }
            }
        }
        // The gradient of each output goes to the position of its maximum (a linear map with fixed
        // positions, so the rule is the same at every order); the tangent is read from there.
        let inputShape = shape
        let result = Tensor(shape: kept, buffer: out).recorded(
            "max", inputs: [self],
            vjp: { g, _ in [g.scatteringFlat(to: argmax, shape: inputShape)] },
            jvp: { t, _ in t[0]?.gatheringFlat(at: argmax, shape: kept) })
        return keepingDimensions ? result : result.reshaped(to: kept.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }
}
