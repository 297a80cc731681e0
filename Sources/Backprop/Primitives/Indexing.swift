// Slicing, selecting, gathering, concatenating and stacking along an axis.

extension Tensor {
    /// Resolves a possibly negative axis.
    func resolvedAxis(_ axis: Int, _ operation: String, extra: Int = 0) -> Int {
        let a = axis < 0 ? axis + rank + extra : axis
        precondition(a >= 0 && a < rank + extra, "\(operation): axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// The elements at positions `range` along `axis`.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func slicing(_ range: Range<Int>, alongAxis axis: Int = 0) -> Tensor {
        let a = resolvedAxis(axis, "slicing(_:alongAxis:)")
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[a],
            "slicing(_:alongAxis:): range \(range) out of bounds for axis \(a) of shape \(shape)")
        let (outer, n, inner) = splitAround(axis: a)
        var outShape = shape
        outShape[a] = range.count
        var values = [Scalar]()
        values.reserveCapacity(outer * range.count * inner)
        withScalarBuffer { p in
            for o in 0..<outer {
                let start = (o * n + range.lowerBound) * inner
                values.append(contentsOf: p[start..<(start + range.count * inner)])
            }
        }
        let inputShape = shape
        var out = Tensor(shape: outShape, buffer: values)
        if isTraced {
            out = out.traced(.slice(lower: range.lowerBound, upper: range.upperBound, axis: a), [self]) {
                $0[0].slicing(range, alongAxis: a)
            }
        }
        return out.recorded("slice", inputs: [self], rule: DerivativeRule(.slice(SliceRule(range: range, axis: a, inputShape: inputShape))))
    }

    /// This tensor placed at positions `range` along `axis` of a zero tensor of `shape`: the transpose
    /// of `slicing(_:alongAxis:)`, and its pullback.
    func padded(to shape: [Int], placing range: Range<Int>, alongAxis axis: Int) -> Tensor {
        var full = Tensor.zeros(shape: shape)
        full.buffer.withUnsafeMutableBufferPointer { addPlaced(into: $0, shape: shape, range: range, axis: axis) }
        if isTraced {
            full = full.traced(.pad(lower: range.lowerBound, axis: axis), [self]) {
                $0[0].padded(to: shape, placing: range, alongAxis: axis)
            }
        }
        return full.recorded(
            "pad", inputs: [self],
            vjp: { g, _ in [g.slicing(range, alongAxis: axis)] },
            jvp: { t, _ in t[0]?.padded(to: shape, placing: range, alongAxis: axis) })
    }

    /// Adds this tensor's values into `target`, the values of a tensor of `shape`, at positions `range` along
    /// `axis` (the loop of `padded(to:placing:alongAxis:)`).
    func addPlaced(into target: UnsafeMutableBufferPointer<Scalar>, shape: [Int], range: Range<Int>, axis: Int) {
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        let run = range.count * inner
        withScalarBuffer { gp in
            for o in 0..<outer {
                let start = (o * n + range.lowerBound) * inner
                for k in 0..<run { target[start + k] += gp[o * run + k] }
            }
        }
    }

    /// The elements at positions `range` of the first axis.
    public subscript(range: Range<Int>) -> Tensor { slicing(range, alongAxis: 0) }

    /// The sub-tensor at `index` of the first axis (the first axis removed).
    public subscript(index: Int) -> Tensor {
        precondition(rank > 0, "Tensor[_:]: cannot index a scalar")
        precondition(index >= 0 && index < shape[0], "Tensor[_:]: index \(index) out of range for shape \(shape)")
        return slicing(index..<(index + 1), alongAxis: 0).reshaped(to: Array(shape.dropFirst()))
    }

    /// The slices at `indices` along `axis`, in that order (repeats allowed): for a matrix and axis 0,
    /// a gathering of rows. The gradient is scattered back and summed at repeated indices.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public func gathering(atIndices indices: [Int], alongAxis axis: Int = 0) -> Tensor {
        let a = resolvedAxis(axis, "gathering(atIndices:alongAxis:)")
        let (outer, n, inner) = splitAround(axis: a)
        for i in indices {
            precondition(i >= 0 && i < n, "gathering(atIndices:alongAxis:): index \(i) out of range for axis \(a) of shape \(shape)")
        }
        var outShape = shape
        outShape[a] = indices.count
        var values = [Scalar]()
        values.reserveCapacity(outer * indices.count * inner)
        withScalarBuffer { p in
            for o in 0..<outer {
                for i in indices {
                    let start = (o * n + i) * inner
                    values.append(contentsOf: p[start..<(start + inner)])
                }
            }
        }
        let inputShape = shape
        var out = Tensor(shape: outShape, buffer: values)
        if isTraced { out = out.traced(.opaque("gather"), [self]) { $0[0].gathering(atIndices: indices, alongAxis: a) } }
        return out.recorded(
            "gather", inputs: [self],
            vjp: { g, _ in [g.scatteringAdding(atIndices: indices, alongAxis: a, toShape: inputShape)] },
            jvp: { t, _ in t[0]?.gathering(atIndices: indices, alongAxis: a) })
    }

    /// The slices of this tensor added into a zero tensor of `shape` at `indices` along `axis` (repeated
    /// indices add up): the transpose of `gathering(atIndices:alongAxis:)`, and its pullback.
    func scatteringAdding(atIndices indices: [Int], alongAxis axis: Int, toShape shape: [Int]) -> Tensor {
        var full = Tensor.zeros(shape: shape)
        let (outer, n, inner) = full.splitAround(axis: axis)
        full.buffer.withUnsafeMutableBufferPointer { grad in
            withScalarBuffer { gp in
                var source = 0
                for o in 0..<outer {
                    for i in indices {
                        let start = (o * n + i) * inner
                        for k in 0..<inner { grad[start + k] += gp[source + k] }
                        source += inner
                    }
                }
            }
        }
        if isTraced {
            full = full.traced(.opaque("scatter"), [self]) {
                $0[0].scatteringAdding(atIndices: indices, alongAxis: axis, toShape: shape)
            }
        }
        return full.recorded(
            "scatter", inputs: [self],
            vjp: { g, _ in [g.gathering(atIndices: indices, alongAxis: axis)] },
            jvp: { t, _ in t[0]?.scatteringAdding(atIndices: indices, alongAxis: axis, toShape: shape) })
    }

    /// The elements at the flat (row-major) positions `routing` chose in a tensor of this one's shape, as a
    /// tensor of `shape` (the tangent of `max`).
    func gatheringFlat(_ routing: FlatRouting<Scalar>, shape: [Int]) -> Tensor {
        let count = routing.positions.count
        // Long gathers (a pooling layer's maxima) split across the cores, each part reading its own positions.
        let values = withScalarBuffer { p in
            routing.positions.withUnsafeBufferPointer { positions in
                [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
                    if count > 0 {
                        let operands = GatherPointers(source: p.baseAddress!, positions: positions.baseAddress!, output: out.baseAddress!)
                        forEachChunk(count: count) { range in
                            for k in range { (operands.output + k).initialize(to: operands.source[operands.positions[k]]) }
                        }
                    }
                    initialized = count
                }
            }
        }
        let inputShape = self.shape
        var out = Tensor(shape: shape, buffer: values)
        if isTraced || routing.source.isTraced {
            let rule = routing.rule
            out = out.traced(.opaque("gatherFlat"), [self, routing.source], routing: TracedRouting(memo: rule.memo)) { xs in
                xs[0].gatheringFlat(rule.routing(in: xs[1]), shape: shape)
            }
        }
        return out.recorded(
            "gatherFlat", inputs: [self],
            vjp: { g, _ in [g.scatteringFlat(routing, shape: inputShape)] },
            jvp: { t, _ in t[0]?.gatheringFlat(routing, shape: shape) })
    }

    /// A zero tensor of `shape` with this tensor's elements added at the flat positions `routing` chose: the
    /// transpose of `gatheringFlat(_:shape:)` (the pullback of `max`).
    func scatteringFlat(_ routing: FlatRouting<Scalar>, shape: [Int]) -> Tensor {
        var full = Tensor.zeros(shape: shape)
        if shape.isEmpty {
            full = Tensor(withScalarBuffer { p in p.reduce(0, +) })
        } else {
            full.buffer.withUnsafeMutableBufferPointer { out in
                withScalarBuffer { p in for (k, i) in routing.positions.enumerated() { out[i] += p[k] } }
            }
        }
        let inputShape = self.shape
        if isTraced || routing.source.isTraced {
            // The gather at the same positions, for the compiler's rewrites (`withReLUMasksBeforeScatters`).
            let rule = routing.rule
            let transpose = TracedRouting(memo: rule.memo) { xs in
                xs[0].gatheringFlat(rule.routing(in: xs[1]), shape: inputShape)
            }
            full = full.traced(.opaque("scatterFlat"), [self, routing.source], routing: transpose) { xs in
                xs[0].scatteringFlat(rule.routing(in: xs[1]), shape: shape)
            }
        }
        return full.recorded(
            "scatterFlat", inputs: [self],
            vjp: { g, _ in [g.gatheringFlat(routing, shape: inputShape)] },
            jvp: { t, _ in t[0]?.scatteringFlat(routing, shape: shape) })
    }

    /// Joins tensors along an existing axis; all other dimensions must agree.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    public init(concatenating tensors: [Tensor], alongAxis axis: Int = 0) {
        precondition(!tensors.isEmpty, "Tensor(concatenating:alongAxis:): no tensors")
        let first = tensors[0]
        let a = first.resolvedAxis(axis, "Tensor(concatenating:alongAxis:)")
        for t in tensors {
            var s1 = t.shape, s0 = first.shape
            precondition(s1.count == s0.count, "Tensor(concatenating:alongAxis:): shapes \(s0) and \(t.shape) differ in rank")
            s1[a] = 0
            s0[a] = 0
            precondition(s1 == s0, "Tensor(concatenating:alongAxis:): shapes \(first.shape) and \(t.shape) differ off axis \(a)")
        }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let sizes = tensors.map { $0.shape[a] }
        var outShape = first.shape
        outShape[a] = sizes.reduce(0, +)
        var values = [Scalar]()
        values.reserveCapacity(outShape.reduce(1, *))
        for o in 0..<outer {
            for (t, size) in zip(tensors, sizes) {
                t.withScalarBuffer { p in
                    values.append(contentsOf: p[(o * size * inner)..<((o + 1) * size * inner)])
                }
            }
        }
        let shapes = tensors.map(\.shape)
        var out = Tensor(shape: outShape, buffer: values)
        if tensors.contains(where: \.isTraced) {
            out = out.traced(.concat(axis: a), tensors) { Tensor(concatenating: $0, alongAxis: a) }
        }
        self = out.recorded(
            "concat", inputs: tensors,
            vjp: { g, _ in
                var offset = 0
                return sizes.map { size in
                    defer { offset += size }
                    return g.slicing(offset..<(offset + size), alongAxis: a)
                }
            },
            jvp: { t, _ in
                Tensor(concatenating: zip(t, shapes).map { $0 ?? Tensor.zeros(shape: $1) }, alongAxis: a)
            })
    }

    /// Stacks tensors of one shape along a new axis.
    public init(stacking tensors: [Tensor], alongAxis axis: Int = 0) {
        precondition(!tensors.isEmpty, "Tensor(stacking:alongAxis:): no tensors")
        let shape = tensors[0].shape
        for t in tensors {
            precondition(t.shape == shape, "Tensor(stacking:alongAxis:): shapes \(shape) and \(t.shape) differ")
        }
        let a = tensors[0].resolvedAxis(axis, "Tensor(stacking:alongAxis:)", extra: 1)
        self.init(concatenating: tensors.map { $0.expandingShape(at: a) }, alongAxis: a)
    }
}

/// The derivative rule of `slicing(_:alongAxis:)`, recorded as its parameters: the VJP places the cotangent at
/// `range` of zeros of the input's shape (`padded`), the JVP slices the tangent. A first-order sweep adds the
/// cotangent into that range of the input's gradient instead (`accumulate`), which is the same VJP without
/// the zeros and the sum.
struct SliceRule {
    /// The positions taken along `axis`.
    let range: Range<Int>
    /// The axis.
    let axis: Int
    /// The input's shape.
    let inputShape: [Int]

    /// The input's cotangent.
    func vjp<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> { g.padded(to: inputShape, placing: range, alongAxis: axis) }

    /// The output's tangent.
    func jvp<S: TensorScalar>(_ t: Tensor<S>) -> Tensor<S> { t.slicing(range, alongAxis: axis) }

    /// Adds the VJP of `g` into `total`, the input's gradient so far (nil: none yet), during a first-order
    /// sweep: into `range` of its values, in place when nothing else shares them (copy-on-write copies them
    /// otherwise).
    func accumulate<S: TensorScalar>(_ g: Tensor<S>, into total: inout Tensor<S>?) {
        guard var sum = total else {
            var fresh = Tensor<S>.zeros(shape: inputShape)
            fresh.buffer.withUnsafeMutableBufferPointer { g.addPlaced(into: $0, shape: inputShape, range: range, axis: axis) }
            total = fresh
            return
        }
        total = nil
        guard sum.shape == inputShape, sum.tape == nil, sum.annex == nil, g.annex == nil else {
            total = sum + vjp(g)
            return
        }
        sum.buffer.withUnsafeMutableBufferPointer { g.addPlaced(into: $0, shape: inputShape, range: range, axis: axis) }
        total = sum
    }
}

/// A gather's operands, shared with the worker threads (each writes its own range of the output).
private struct GatherPointers<Scalar>: @unchecked Sendable {
    let source: UnsafePointer<Scalar>
    let positions: UnsafePointer<Int>
    let output: UnsafeMutablePointer<Scalar>
}

/// Flat positions in a tensor that were chosen by the values of another one, the *source* (the position of
/// each window's maximum): kept with the source and the way to find them, so that a traced replay finds them
/// again in its own values instead of reusing the first call's.
struct FlatRouting<Scalar: TensorScalar> {
    /// The positions, in the source's row-major layout.
    let positions: [Int]
    /// The tensor whose values chose them (detached; traced inside `compiled`).
    let source: Tensor<Scalar>
    /// Finds the positions in a tensor of the source's shape.
    let locate: (Tensor<Scalar>) -> [Int]
    /// The last positions found by `relocated(in:)`, shared by the copies of this routing (a compiled
    /// program's gather and the scatter of its pullback find them once per call).
    let memo: FlatRoutingMemo<Scalar>

    init(
        positions: [Int], source: Tensor<Scalar>, memo: FlatRoutingMemo<Scalar> = FlatRoutingMemo(),
        locate: @escaping (Tensor<Scalar>) -> [Int]
    ) {
        self.positions = positions
        self.source = source
        self.locate = locate
        self.memo = memo
    }

    /// The rule that chose the positions, without them or the tensor they were found in: what a compiled
    /// program's steps keep, so that a program does not hold its first call's values for as long as it lives.
    var rule: FlatRoutingRule<Scalar> { FlatRoutingRule(locate: locate, memo: memo) }
}

/// How a routing's positions are found, and the memo that shares them between the gather and the scatter of
/// one call of a compiled program.
struct FlatRoutingRule<Scalar: TensorScalar> {
    let locate: (Tensor<Scalar>) -> [Int]
    let memo: FlatRoutingMemo<Scalar>

    /// The routing the rule chooses in `source`'s values (found once for the same storage).
    func routing(in source: Tensor<Scalar>) -> FlatRouting<Scalar> {
        FlatRouting(positions: memo.positions(in: source, locate), source: source, memo: memo, locate: locate)
    }
}

/// The positions a routing last found and the source they were found in. The source is kept, so its
/// storage cannot be freed and reused while it is the key: storage identity then means the same values
/// (tensor storage is never written in place while shared).
final class FlatRoutingMemo<Scalar: TensorScalar>: @unchecked Sendable {
    private let lock = DeferredValueLock()
    private var source: Tensor<Scalar>?
    private var positions: [Int] = []

    /// The positions `locate` finds in `source`, from the memo when `source` has the same storage as last time.
    func positions(in source: Tensor<Scalar>, _ locate: (Tensor<Scalar>) -> [Int]) -> [Int] {
        let hit: [Int]? = lock.withLock {
            guard let last = self.source, last.shape == source.shape, last.hasSameStorage(as: source) else { return nil }
            return positions
        }
        if let hit { return hit }
        let found = locate(source)
        lock.withLock {
            self.source = source
            positions = found
        }
        return found
    }

    /// Drops the last positions and their source (a compiled program's call does at its end, so that the
    /// memo holds no memory between calls).
    func forget() {
        lock.withLock {
            source = nil
            positions = []
        }
    }
}

extension Tensor {
    /// Whether both tensors read the same memory (the same storage, not equal values); false for scalars.
    func hasSameStorage(as other: Tensor) -> Bool {
        guard !shape.isEmpty, !other.shape.isEmpty, storage.count == other.storage.count, !storage.isEmpty else { return false }
        return storage.withUnsafeBufferPointer { a in other.storage.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }
}
