// Jacobians by forward mode (one forward sweep per input element) or reverse mode (one reverse sweep per
// output element), on a single recording of the function.

/// How `jacobian(at:mode:of:)` computes: column by column with forward sweeps, or row by row with reverse
/// sweeps.
public enum JacobianMode: Sendable {
    /// One forward sweep per element of the input: cheaper when the input is smaller than the output.
    case forward
    /// One reverse sweep per element of the output: cheaper when the output is smaller than the input.
    case reverse
}

/// The one-hot tensor of `shape` with a 1 at flat position `index`.
func oneHot<Scalar: TensorScalar>(_ index: Int, shape: [Int]) -> Tensor<Scalar> {
    var values = [Scalar](repeating: 0, count: shape.reduce(1, *))
    values[index] = 1
    return Tensor(shape: shape, scalars: values)
}

/// The Jacobians of `f` with respect to each tensor of `xs`: for input `xᵢ`, a tensor of shape
/// `f(xs).shape + xᵢ.shape` whose element [j…, k…] is ∂f[j…]/∂xᵢ[k…].
///
/// `mode` chooses forward sweeps (one per input element) or reverse sweeps (one per output element); by
/// default the cheaper, forward when the inputs have fewer elements than the output. The function is
/// evaluated and recorded once either way.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
public func jacobian<Scalar>(
    at xs: [Tensor<Scalar>], mode: JacobianMode? = nil, of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> [Tensor<Scalar>] {
    let level = DifferentiationLevel(arguments: xs)
    defer { level.close() }
    let y = try level.evaluate(f)
    let outputCount = y.scalarCount
    let inputCount = xs.reduce(0) { $0 + $1.scalarCount }
    let chosen = mode ?? (inputCount < outputCount ? .forward : .reverse)
    if !level.isNested && outputCount > 0 && inputCount > 0 {
        return batchedJacobian(level: level, y: y, inputs: xs, mode: chosen)
    }
    switch chosen {
    case .reverse:
        // Row j: the cotangent one-hot at output j pulled back to every input.
        let rows = (0..<outputCount).map { j in level.pullback(of: y, seed: oneHot(j, shape: y.shape)) }
        return xs.indices.map { i in
            let stacked = Tensor(stacking: rows.map { $0[i].reshaped(to: [xs[i].scalarCount]) })
            return stacked.reshaped(to: y.shape + xs[i].shape)
        }
    case .forward:
        // Column k of input i: the tangent of the output for a one-hot direction at that element.
        return xs.indices.map { i in
            guard xs[i].scalarCount > 0, outputCount > 0 else { return Tensor.zeros(shape: y.shape + xs[i].shape) }
            let columns = (0..<xs[i].scalarCount).map { k in
                let directions = xs.indices.map { m in
                    m == i ? oneHot(k, shape: xs[m].shape) : Tensor<Scalar>.zeros(shape: xs[m].shape)
                }
                return level.tangent(of: y, along: directions).reshaped(to: [outputCount])
            }
            return Tensor(stacking: columns, alongAxis: 1).reshaped(to: y.shape + xs[i].shape)
        }
    }
}

/// How many seeds one batched sweep carries at most: bounds the memory of `[k] + shape` values.
let jacobianBatchElements = 1 << 24

/// A top-level Jacobian by batched sweeps: identity seeds in chunks, one sweep per chunk.
@_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
private func batchedJacobian<Scalar>(
    level: DifferentiationLevel<Scalar>, y: Tensor<Scalar>, inputs xs: [Tensor<Scalar>], mode: JacobianMode
) -> [Tensor<Scalar>] {
    let tape = level.tape
    let outputCount = y.scalarCount
    guard level.dependsOnInputs(y) else { return xs.map { Tensor.zeros(shape: y.shape + $0.shape) } }
    var largest = 1
    for i in level.start...Int(y.node) { largest = Swift.max(largest, tape.shape(of: Int32(i)).reduce(1, *)) }
    let chunk = Swift.max(1, jacobianBatchElements / largest)
    /// Rows `range` of the identity matrix of size `n`, shaped `[rows] + shape`.
    func identityRows(_ range: Range<Int>, _ n: Int, _ shape: [Int]) -> Tensor<Scalar> {
        var values = [Scalar](repeating: 0, count: range.count * n)
        for (r, j) in range.enumerated() { values[r * n + j] = 1 }
        return Tensor(shape: [range.count] + shape, scalars: values)
    }
    switch mode {
    case .reverse:
        var blocks = xs.map { _ in [Tensor<Scalar>]() }
        for lower in stride(from: 0, to: outputCount, by: chunk) {
            let range = lower..<Swift.min(lower + chunk, outputCount)
            let gradients = tape.batchedReverseSweep(
                from: y.node, seeds: identityRows(range, outputCount, y.shape), downTo: level.start)
            for (i, input) in level.inputs.enumerated() {
                blocks[i].append(
                    gradients[Int(input.node) - level.start]?.reshaped(to: [range.count, xs[i].scalarCount])
                        ?? Tensor.zeros(shape: [range.count, xs[i].scalarCount]))
            }
        }
        return xs.indices.map { i in
            (blocks[i].count == 1 ? blocks[i][0] : Tensor(concatenating: blocks[i])).reshaped(to: y.shape + xs[i].shape)
        }
    case .forward:
        return xs.indices.map { i in
            let n = xs[i].scalarCount
            var blocks: [Tensor<Scalar>] = []
            for lower in stride(from: 0, to: n, by: chunk) {
                let range = lower..<Swift.min(lower + chunk, n)
                let seeds = [level.inputs[i].node: identityRows(range, n, xs[i].shape)]
                let t = tape.batchedForwardSweep(from: level.start, outputs: [y.node], seeds: seeds, count: range.count)[0]
                blocks.append(t?.reshaped(to: [range.count, outputCount]) ?? Tensor.zeros(shape: [range.count, outputCount]))
            }
            let columns = blocks.count == 1 ? blocks[0] : Tensor(concatenating: blocks)
            return columns.transposed().reshaped(to: y.shape + xs[i].shape)
        }
    }
}

/// The Jacobian of `f` at `x`: a tensor of shape `f(x).shape + x.shape` whose element [j…, k…] is
/// ∂f[j…]/∂x[k…], by forward mode when `x` has fewer elements than `f(x)` and by reverse mode otherwise.
///
/// ```swift
/// let j = jacobian(at: Tensor<Double>([1, 2])) { x in x * x }   // [[2, 0], [0, 4]]
/// ```
public func jacobian<Scalar>(
    at x: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> Tensor<Scalar> {
    try jacobian(at: [x], mode: nil) { try f($0[0]) }[0]
}

/// The Jacobian of `f` at `x` by the given mode (see `jacobian(at:of:)`).
public func jacobian<Scalar>(
    at x: Tensor<Scalar>, mode: JacobianMode, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> Tensor<Scalar> {
    try jacobian(at: [x], mode: mode) { try f($0[0]) }[0]
}

/// The Jacobians of `f` at `(x, y)` with respect to each argument.
public func jacobian<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, mode: JacobianMode? = nil,
    of f: (Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (Tensor<Scalar>, Tensor<Scalar>) {
    let j = try jacobian(at: [x, y], mode: mode) { try f($0[0], $0[1]) }
    return (j[0], j[1])
}

/// The Jacobians of `f` at `(x, y, z)` with respect to each argument.
public func jacobian<Scalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ z: Tensor<Scalar>, mode: JacobianMode? = nil,
    of f: (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) {
    let j = try jacobian(at: [x, y, z], mode: mode) { try f($0[0], $0[1], $0[2]) }
    return (j[0], j[1], j[2])
}
