/// A uniformly random integer in `0..<bound` from `generator`, by Lemire's multiply-and-reject method,
/// so the result depends only on the generator's bits (the same on every machine and Swift version).
///
/// - Precondition: `bound > 0`.
func uniformIndex(below bound: Int, using generator: inout SeededGenerator) -> Int {
    precondition(bound > 0, "uniformIndex: bound must be positive")
    let range = UInt64(bound)
    var product = generator.next().multipliedFullWidth(by: range)
    if product.low < range {
        let threshold = (0 &- range) % range
        while product.low < threshold { product = generator.next().multipliedFullWidth(by: range) }
    }
    return Int(product.high)
}

/// A permutation of `0..<count` by a Fisher–Yates shuffle driven by `seed`; deterministic everywhere.
func seededPermutation(count: Int, seed: UInt64) -> [Int] {
    var order = Array(0..<count)
    guard count > 1 else { return order }
    var generator = SeededGenerator(seed: seed)
    for i in stride(from: count - 1, to: 0, by: -1) {
        order.swapAt(i, uniformIndex(below: i + 1, using: &generator))
    }
    return order
}

/// Copies whole rows of a row-major matrix (`rowWidth` values per row) in the order of `indices`.
///
/// - Precondition: every index lies in `0..<(source.count / rowWidth)`.
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func gatherRows<Scalar>(_ source: [Scalar], rowWidth: Int, indices: [Int]) -> [Scalar] {
    let rows = rowWidth == 0 ? 0 : source.count / rowWidth
    return source.withUnsafeBufferPointer { from in
        [Scalar](unsafeUninitializedCapacity: indices.count * rowWidth) { to, initialized in
            guard let toBase = to.baseAddress else { initialized = 0; return }
            for (k, row) in indices.enumerated() {
                precondition(row >= 0 && row < rows, "row index \(row) out of range 0..<\(rows)")
                guard rowWidth > 0, let fromBase = from.baseAddress else { continue }
                (toBase + k * rowWidth).initialize(from: fromBase + row * rowWidth, count: rowWidth)
            }
            initialized = indices.count * rowWidth
        }
    }
}
