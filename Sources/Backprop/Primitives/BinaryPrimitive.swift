/// An elementwise primitive of two arguments: its value and its local partial derivatives, side by side.
///
/// The engine applies it with NumPy broadcasting. Its vector-Jacobian product is
/// `(g · ∂y/∂a, g · ∂y/∂b)`, each summed back to its input's shape; its Jacobian-vector product is
/// `ȧ · ∂y/∂a + ḃ · ∂y/∂b`. The partials are stated once, over `ElementwiseAlgebra`, and evaluated on numbers
/// (the fast first-order path) and on tensors built from recorded primitives (derivatives of derivatives).
@usableFromInline
protocol BinaryPrimitive: SendableMetatype {
    /// The name traces and error messages use.
    static var name: String { get }
    /// The code that identifies the primitive in scalar records, traces and compiled kernels.
    static var code: ScalarPrimitiveCode { get }
    /// y = f(a, b).
    static func value<S: TensorScalar>(_ a: S, _ b: S) -> S
    /// (∂y/∂a, ∂y/∂b) at (a, b), given y (tensor partials need only broadcast to y's shape).
    static func partials<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A) -> (A, A)
}

extension BinaryPrimitive {
    /// (∂y/∂a, ∂y/∂b) at numbers.
    @inlinable @inline(__always)
    static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) {
        let (da, db) = partials(Number(a), Number(b), Number(y))
        return (da.value, db.value)
    }

    /// (∂y/∂a, ∂y/∂b) as differentiable tensors (broadcastable to y's shape), given a, b and y.
    static func partials<S: TensorScalar>(at a: Tensor<S>, _ b: Tensor<S>, value y: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        let (da, db) = partials(TensorExpression(a), TensorExpression(b), TensorExpression(y))
        return (da.tensor, db.tensor)
    }
}

extension Tensor {
    /// Applies a binary primitive to two scalars and records it: the fast path of scalar graphs, inlined
    /// into the caller so that it is specialised there.
    @inlinable @inline(__always)
    static func applyingToScalars<P: BinaryPrimitive>(_: P.Type, _ a: Tensor, _ b: Tensor) -> Tensor {
        let y = P.value(a.scalarValue, b.scalarValue)
        if (a.annex != nil && a.isTraced) || (b.annex != nil && b.isTraced) { return applyingToTensors(P.code, a, b) }
        guard a.isTracked || b.isTracked else { return Tensor(y) }
        let (da, db) = P.partials(a.scalarValue, b.scalarValue, y)
        return Tensor(y).recordedBinary(P.code, a, da, b, db)
    }

    /// Applies a binary primitive with broadcasting and records it.
    @inline(__always) @usableFromInline
    static func applying<P: BinaryPrimitive>(_: P.Type, _ a: Tensor, _ b: Tensor) -> Tensor {
        // Scalars take the scalar-record path, unless traced: then their rule must be made of tensors.
        if a.shape.isEmpty && b.shape.isEmpty && !a.isTraced && !b.isTraced { return applyingToScalars(P.self, a, b) }
        let shape = broadcastShape(a.shape, b.shape, operation: P.name)
        let values = P.self == Addition.self
            ? (rowBiasSum(a, b) ?? broadcastMap(a, b, shape, PrimitiveValue<P, Scalar>()))
            : broadcastMap(a, b, shape, PrimitiveValue<P, Scalar>())
        var out = Tensor(shape: shape, buffer: values)
        if a.isTraced || b.isTraced { out = out.traced(.elementwise(P.code), [a, b]) { applying(P.self, $0[0], $0[1]) } }
        guard a.isTracked || b.isTracked else { return out }
        let rule = DerivativeRule<Scalar>(.binary(ElementwiseBinaryRule(
            code: P.code, trackA: a.isTracked, trackB: b.isTracked, shapeA: a.shape, shapeB: b.shape, shape: shape)))
        // Sums and differences pass the gradient through unchanged (up to sign) and keep no values.
        if P.self == Addition.self || P.self == Subtraction.self { return out.recorded(P.name, inputs: [a, b], rule: rule) }
        return out.recorded(P.name, inputs: [a, b], saving: [a, b], savingOutput: true, rule: rule)
    }

    /// The VJP of the binary primitive `P` (see `ElementwiseBinaryRule`).
    static func binaryVJP<P: BinaryPrimitive>(_: P.Type, _ rule: ElementwiseBinaryRule, _ g: Tensor, _ saved: [Tensor]) -> [Tensor?] {
        let (trackA, trackB, shapeA, shapeB) = (rule.trackA, rule.trackB, rule.shapeA, rule.shapeB)
        if P.self == Addition.self || P.self == Subtraction.self {
            let negated = P.self == Subtraction.self
            return [trackA ? g.summed(toShape: shapeA) : nil, trackB ? (negated ? -g : g).summed(toShape: shapeB) : nil]
        }
        let (ga, gb) = scaledByPartials(P.self, g, saved[0], saved[1], saved[2], trackA, trackB)
        return [ga?.summed(toShape: shapeA), gb?.summed(toShape: shapeB)]
    }

    /// The JVP of the binary primitive `P`: ȧ·∂y/∂a + ḃ·∂y/∂b, with each tangent broadcast to the output's
    /// shape first.
    static func binaryJVP<P: BinaryPrimitive>(_: P.Type, _ rule: ElementwiseBinaryRule, _ t: [Tensor?], _ saved: [Tensor]) -> Tensor? {
        let shape = rule.shape
        if P.self == Addition.self || P.self == Subtraction.self {
            let tb = t[1].map { P.self == Subtraction.self ? -$0 : $0 }
            let sum = t[0].map { ta in tb.map { ta + $0 } ?? ta } ?? tb
            return sum?.broadcasted(to: shape)
        }
        let (ta, tb) = (t[0]?.broadcasted(to: shape), t[1]?.broadcasted(to: shape))
        if fusedRulesAllowed(), let ta, let tb {
            let (pa, _) = scaledByPartials(P.self, ta, saved[0], saved[1], saved[2], true, false)
            let (_, pb) = scaledByPartials(P.self, tb, saved[0], saved[1], saved[2], false, true)
            return pa! + pb!
        }
        let (pa, _) = ta.map { scaledByPartials(P.self, $0, saved[0], saved[1], saved[2], true, false) } ?? (nil, nil)
        let (_, pb) = tb.map { scaledByPartials(P.self, $0, saved[0], saved[1], saved[2], false, true) } ?? (nil, nil)
        return pa.map { pa in pb.map { pa + $0 } ?? pa } ?? pb
    }

    /// The VJP of the binary primitive `P` for cotangents stacked along a new leading axis.
    static func binaryBatchedVJP<P: BinaryPrimitive>(_: P.Type, _ rule: ElementwiseBinaryRule, _ g: Tensor, _ saved: [Tensor]) -> [Tensor?] {
        let (trackA, trackB, shapeA, shapeB) = (rule.trackA, rule.trackB, rule.shapeA, rule.shapeB)
        if P.self == Addition.self || P.self == Subtraction.self {
            let negated = P.self == Subtraction.self
            return [trackA ? g.summed(toBatchOf: shapeA) : nil, trackB ? (negated ? -g : g).summed(toBatchOf: shapeB) : nil]
        }
        let (da, db) = P.partials(at: saved[0], saved[1], value: saved[2])
        return [trackA ? (g * da).summed(toBatchOf: shapeA) : nil, trackB ? (g * db).summed(toBatchOf: shapeB) : nil]
    }

    /// The JVP of the binary primitive `P` for tangents stacked along a new leading axis.
    static func binaryBatchedJVP<P: BinaryPrimitive>(_: P.Type, _ rule: ElementwiseBinaryRule, _ t: [Tensor?], _ saved: [Tensor]) -> Tensor? {
        let shape = rule.shape
        if P.self == Addition.self || P.self == Subtraction.self {
            let sign: Scalar = P.self == Subtraction.self ? -1 : 1
            let ta = t[0]?.batchAligned(toRank: shape.count)
            let tb = t[1].map { ($0 * sign).batchAligned(toRank: shape.count) }
            let sum = ta.map { ta in tb.map { ta + $0 } ?? ta } ?? tb
            return sum.map { $0.broadcasted(to: [$0.shape[0]] + shape) }
        }
        let (da, db) = P.partials(at: saved[0], saved[1], value: saved[2])
        let pa = t[0].map { $0.batchAligned(toRank: shape.count) * da }
        let pb = t[1].map { $0.batchAligned(toRank: shape.count) * db }
        let sum = pa.map { pa in pb.map { pa + $0 } ?? pa } ?? pb
        return sum.map { $0.broadcasted(to: [$0.shape[0]] + shape) }
    }

    /// (g · ∂y/∂a, g · ∂y/∂b) over the broadcast shape, for the operands asked for: one fused loop for a
    /// first-order sweep, recorded primitives when the sweep records.
    static func scaledByPartials<P: BinaryPrimitive>(
        _: P.Type, _ g: Tensor, _ a: Tensor, _ b: Tensor, _ y: Tensor, _ wantA: Bool, _ wantB: Bool
    ) -> (Tensor?, Tensor?) {
        if !fusedRulesAllowed() {
            let (da, db) = P.partials(at: a, b, value: y)
            return (wantA ? g * da : nil, wantB ? g * db : nil)
        }
        let shape = g.shape
        if a.shape == shape && b.shape == shape && y.shape == shape {
            return (wantA ? sameShapeScaledByPartial(P.self, g, a, b, y, first: true) : nil,
                    wantB ? sameShapeScaledByPartial(P.self, g, a, b, y, first: false) : nil)
        }
        let count = g.scalarCount
        var ga = wantA ? [Scalar](repeating: 0, count: count) : []
        var gb = wantB ? [Scalar](repeating: 0, count: count) : []
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        g.withScalarBuffer { gp in
            a.withScalarBuffer { ap in
                b.withScalarBuffer { bp in
                    y.withScalarBuffer { yp in
                        ga.withUnsafeMutableBufferPointer { gap in
                            gb.withUnsafeMutableBufferPointer { gbp in
                                guard count > 0 else { return }
                                let p = PartialsPointers(
                                    g: gp.baseAddress!, a: ap.baseAddress!, b: bp.baseAddress!, y: yp.baseAddress!,
                                    outA: gap.baseAddress, outB: gbp.baseAddress)
                                let parts = count >= elementwiseParallelThreshold ? parallelThreadCount : 1
                                concurrentPerformKeepingKernelPath(iterations: parts) { part in
                                    let share = (count * part / parts)..<(count * (part + 1) / parts)
                                    forEachBroadcastOffset(shape, sa, sb, in: share) { i, ia, ib in
                                        let (da, db) = P.partials(p.a[ia], p.b[ib], p.y[i])
                                        if wantA { p.outA![i] = p.g[i] * da }
                                        if wantB { p.outB![i] = p.g[i] * db }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (wantA ? Tensor(shape: shape, buffer: ga) : nil, wantB ? Tensor(shape: shape, buffer: gb) : nil)
    }

    /// g · ∂y/∂a (`first`) or g · ∂y/∂b when no operand is broadcast: one loop, on all cores when long.
    static func sameShapeScaledByPartial<P: BinaryPrimitive>(
        _: P.Type, _ g: Tensor, _ a: Tensor, _ b: Tensor, _ y: Tensor, first: Bool
    ) -> Tensor {
        let count = g.scalarCount
        let values = [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
            g.withScalarBuffer { gp in
                a.withScalarBuffer { ap in
                    b.withScalarBuffer { bp in
                        y.withScalarBuffer { yp in
                            guard count > 0 else { return }
                            let pointers = LoopPointers(
                                inputs: [gp.baseAddress!, ap.baseAddress!, bp.baseAddress!, yp.baseAddress!],
                                output: out.baseAddress!)
                            forEachChunk(count: count) { range in
                                let g = pointers.inputs[0], a = pointers.inputs[1], b = pointers.inputs[2]
                                let y = pointers.inputs[3], out = pointers.output
                                if first {
                                    for i in range { out[i] = g[i] * P.partials(a[i], b[i], y[i]).0 }
                                } else {
                                    for i in range { out[i] = g[i] * P.partials(a[i], b[i], y[i]).1 }
                                }
                            }
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: g.shape, buffer: values)
    }

    /// a + b when one operand is a vector added to every row of the other (a bias: `[..., n] + [n]` or
    /// `[n] + [..., n]`), by the vectorised kernel; nil for any other pair of shapes.
    @usableFromInline
    static func rowBiasSum(_ a: Tensor, _ b: Tensor) -> [Scalar]? {
        let (matrix, bias) = b.rank == 1 && a.rank >= 2 ? (a, b) : (b, a)
        guard bias.rank == 1, matrix.rank >= 2, matrix.shape[matrix.rank - 1] == bias.shape[0] else { return nil }
        let columns = bias.shape[0], count = matrix.scalarCount
        guard columns > 0, count > 0 else { return nil }
        return matrix.withScalarBuffer { mp in
            bias.withScalarBuffer { bp in
                [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
                    addBiasRows(mp.baseAddress!, bias: bp.baseAddress!, out.baseAddress!,
                                rows: count / columns, columns: columns)
                    initialized = count
                }
            }
        }
    }

    /// f(a, b) elementwise over the broadcast `shape`, split across the cores when long: a loop per trailing
    /// run over which both operands step contiguously or one stays fixed (a channel bias [1, C, 1, 1] against
    /// [N, C, H, W]: runs of H·W), the outer positions walked generically. Not inlined: its callers (every
    /// binary operator, scalars first) stay small.
    @usableFromInline
    static func broadcastMap<F: BroadcastFunction>(_ a: Tensor, _ b: Tensor, _ shape: [Int], _ f: F) -> [Scalar]
    where F.Scalar == Scalar {
        let count = shape.reduce(1, *)
        return a.withScalarBuffer { ap in
            b.withScalarBuffer { bp in
                [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
                    initialized = 0
                    guard count > 0 else { return }
                    // Two pointers in a struct, not LoopPointers' array: no allocation per operation.
                    let pointers = BinaryLoopPointers(a: ap.baseAddress!, b: bp.baseAddress!, output: out.baseAddress!)
                    if a.shape == b.shape || ap.count == 1 || bp.count == 1 {
                        let aSteps = ap.count != 1 || count == 1, bSteps = bp.count != 1 || count == 1
                        forEachChunk(count: count) { range in
                            let x = pointers.a, y = pointers.b, o = pointers.output
                            if aSteps && bSteps {
                                for i in range { o[i] = f(x[i], y[i]) }
                            } else if aSteps {
                                let s = y[0]
                                for i in range { o[i] = f(x[i], s) }
                            } else {
                                let s = x[0]
                                for i in range { o[i] = f(s, y[i]) }
                            }
                        }
                    } else {
                        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
                        var run = 1, k = shape.count
                        let aSteps = sa.last == 1, bSteps = sb.last == 1
                        while k > 0 && sa[k - 1] == (aSteps ? run : 0) && sb[k - 1] == (bSteps ? run : 0) && (aSteps || bSteps) {
                            run *= shape[k - 1]
                            k -= 1
                        }
                        if run < 8 { (run, k) = (1, shape.count) }
                        let outer = Array(shape[..<k]), outerA = Array(sa[..<k]), outerB = Array(sb[..<k])
                        let positions = count / run, length = run
                        let parts = count >= elementwiseParallelThreshold ? Swift.min(parallelThreadCount, positions) : 1
                        concurrentPerformKeepingKernelPath(iterations: parts) { part in
                            let x = pointers.a, y = pointers.b, o = pointers.output
                            let share = (positions * part / parts)..<(positions * (part + 1) / parts)
                            forEachBroadcastOffset(outer, outerA, outerB, in: share) { i, ia, ib in
                                let target = o + i * length
                                if length == 1 {
                                    target[0] = f(x[ia], y[ib])
                                } else if aSteps && bSteps {
                                    for j in 0..<length { target[j] = f(x[ia + j], y[ib + j]) }
                                } else if aSteps {
                                    let s = y[ib]
                                    for j in 0..<length { target[j] = f(x[ia + j], s) }
                                } else {
                                    let s = x[ia]
                                    for j in 0..<length { target[j] = f(s, y[ib + j]) }
                                }
                            }
                        }
                    }
                    initialized = count
                }
            }
        }
    }
}

/// The operands and output of `broadcastMap`'s loops, shared by their threads.
private struct BinaryLoopPointers<Scalar>: @unchecked Sendable {
    let a: UnsafePointer<Scalar>, b: UnsafePointer<Scalar>, output: UnsafeMutablePointer<Scalar>
}

/// The operands and outputs of `scaledByPartials`' broadcast loop, shared by its threads (each writes its own
/// positions of the outputs).
private struct PartialsPointers<Scalar>: @unchecked Sendable {
    let g: UnsafePointer<Scalar>, a: UnsafePointer<Scalar>, b: UnsafePointer<Scalar>, y: UnsafePointer<Scalar>
    let outA: UnsafeMutablePointer<Scalar>?, outB: UnsafeMutablePointer<Scalar>?
}

/// A function of two scalars that `broadcastMap` applies elementwise (on several threads at once).
@usableFromInline
protocol BroadcastFunction: Sendable {
    associatedtype Scalar: TensorScalar
    func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar
}

/// The value of the binary primitive `P`.
@usableFromInline
struct PrimitiveValue<P: BinaryPrimitive, Scalar: TensorScalar>: BroadcastFunction {
    @usableFromInline init() {}
    @inlinable @inline(__always)
    func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { P.value(a, b) }
}

/// The derivative rule of an elementwise function of two arguments with broadcasting, recorded by its code and
/// its operands' shapes (a, b and y saved, except for sums and differences, which keep no values). Its VJP is
/// (g · ∂y/∂a, g · ∂y/∂b), each summed back to its operand's shape; its JVP is ȧ · ∂y/∂a + ḃ · ∂y/∂b, with
/// the primitive's `partials` (`Tensor.binaryVJP` and its relatives above).
struct ElementwiseBinaryRule {
    /// The primitive.
    let code: ScalarPrimitiveCode
    /// Which operands were tracked (the others receive no cotangent).
    let trackA: Bool, trackB: Bool
    /// The operands' shapes and the output's.
    let shapeA: [Int], shapeB: [Int], shape: [Int]

    /// The cotangents of a and b.
    func vjp<S: TensorScalar>(_ g: Tensor<S>, _ saved: [Tensor<S>]) -> [Tensor<S>?] {
        code.visit(BinaryRuleVisitor(rule: self, operation: .vjp, cotangent: g, tangents: [], saved: saved))
    }

    /// The output's tangent.
    func jvp<S: TensorScalar>(_ t: [Tensor<S>?], _ saved: [Tensor<S>]) -> Tensor<S>? {
        code.visit(BinaryRuleVisitor(rule: self, operation: .jvp, cotangent: nil, tangents: t, saved: saved))[0]
    }

    /// The cotangents of a and b for cotangents stacked along a new leading axis.
    func batchedVJP<S: TensorScalar>(_ g: Tensor<S>, _ saved: [Tensor<S>]) -> [Tensor<S>?] {
        code.visit(BinaryRuleVisitor(rule: self, operation: .batchedVJP, cotangent: g, tangents: [], saved: saved))
    }

    /// The output's tangents for tangents stacked along a new leading axis.
    func batchedJVP<S: TensorScalar>(_ t: [Tensor<S>?], _ saved: [Tensor<S>]) -> Tensor<S>? {
        code.visit(BinaryRuleVisitor(rule: self, operation: .batchedJVP, cotangent: nil, tangents: t, saved: saved))[0]
    }
}

/// Runs one of `ElementwiseBinaryRule`'s rules with the primitive's type, found by its code.
private struct BinaryRuleVisitor<Scalar: TensorScalar>: ElementwisePrimitiveVisitor {
    enum Operation { case vjp, jvp, batchedVJP, batchedJVP }
    let rule: ElementwiseBinaryRule
    let operation: Operation
    let cotangent: Tensor<Scalar>?
    let tangents: [Tensor<Scalar>?]
    let saved: [Tensor<Scalar>]

    func visitBinary<P: BinaryPrimitive>(_: P.Type) -> [Tensor<Scalar>?] {
        switch operation {
        case .vjp: Tensor.binaryVJP(P.self, rule, cotangent!, saved)
        case .jvp: [Tensor.binaryJVP(P.self, rule, tangents, saved)]
        case .batchedVJP: Tensor.binaryBatchedVJP(P.self, rule, cotangent!, saved)
        case .batchedJVP: [Tensor.binaryBatchedJVP(P.self, rule, tangents, saved)]
        }
    }
    func visitUnary<P: UnaryPrimitive>(_: P.Type) -> [Tensor<Scalar>?] {
        preconditionFailure("\(P.name) takes one argument")
    }
}
