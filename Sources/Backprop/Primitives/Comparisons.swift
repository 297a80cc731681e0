// Elementwise comparisons. They give masks of 0 and 1 and are not differentiable (never recorded).

extension Tensor {
    /// A mask from comparing elementwise with broadcasting.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    static func mask(_ a: Tensor, _ b: Tensor, _ comparison: Comparison) -> Tensor {
        let shape = broadcastShape(a.shape, b.shape, operation: comparison.rawValue)
        let out = Tensor(shape: shape, buffer: broadcastMap(a, b, shape, ComparisonMask<Scalar>(comparison: comparison)))
        guard a.isTraced || b.isTraced else { return out }
        return out.traced(.compare(comparison), [a, b]) { mask($0[0], $0[1], comparison) }
    }

    /// 1 where `lhs < rhs`, else 0.
    public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor { mask(lhs, rhs, .less) }
    /// 1 where `lhs <= rhs`, else 0.
    public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor { mask(lhs, rhs, .lessOrEqual) }
    /// 1 where `lhs > rhs`, else 0.
    public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor { mask(lhs, rhs, .greater) }
    /// 1 where `lhs >= rhs`, else 0.
    public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor { mask(lhs, rhs, .greaterOrEqual) }
    /// 1 where `lhs == rhs`, else 0.
    public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor { mask(lhs, rhs, .equal) }
    /// 1 where `lhs != rhs`, else 0.
    public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor { mask(lhs, rhs, .notEqual) }
    /// 1 where an element is less than `rhs`, else 0.
    public static func .< (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .< Tensor(rhs) }
    /// 1 where an element is greater than `rhs`, else 0.
    public static func .> (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .> Tensor(rhs) }
    /// 1 where an element is at most `rhs`, else 0.
    public static func .<= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .<= Tensor(rhs) }
    /// 1 where an element is at least `rhs`, else 0.
    public static func .>= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .>= Tensor(rhs) }
    /// 1 where an element equals `rhs`, else 0.
    public static func .== (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .== Tensor(rhs) }

    /// The index of the largest element along `axis` for each position of the other axes (first on ties).
    public func argmax(alongAxis axis: Int = -1) -> [Int] {
        requireHostReadable("argmax(alongAxis:)")
        let a = resolvedAxis(axis, "argmax(alongAxis:)")
        let (outer, n, inner) = splitAround(axis: a)
        var result = [Int](repeating: 0, count: outer * inner)
        withScalarBuffer { p in
            for o in 0..<outer {
                for j in 0..<inner {
                    var best = 0
                    for k in 1..<Swift.max(n, 1) where p[(o * n + k) * inner + j] > p[(o * n + best) * inner + j] { best = k }
                    result[o * inner + j] = best
                }
            }
        }
        return result
    }
}

/// 1 where `comparison` holds, else 0 (the function `Tensor.mask` broadcasts).
struct ComparisonMask<Scalar: TensorScalar>: BroadcastFunction {
    let comparison: Comparison
    func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { comparison.holds(a, b) ? 1 : 0 }
}
