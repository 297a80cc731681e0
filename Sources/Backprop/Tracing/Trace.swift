// Tracing: the graph of primitives that `compiled` records by running a function once on traced tensors.
//
// Tracing sits below the tape. A traced tensor has its real value (the first call's arguments flow through
// the function eagerly) and a marker naming its node in the trace; every primitive applied to a traced input
// appends a node and marks its output. Tensors that are not traced are constants of the trace. The tape and
// the transforms work above this unchanged, so a gradient taken inside a traced function traces its backward
// sweep too (see docs/engine.md, "The compiled transform").

/// The marker of a traced value: which trace it belongs to and its node there.
final class TraceMarker<Scalar: TensorScalar>: TensorAnnex<Scalar>, @unchecked Sendable {
    /// The trace the value belongs to.
    let trace: Trace<Scalar>
    /// The value's node in the trace.
    let node: Int32

    init(trace: Trace<Scalar>, node: Int32) {
        self.trace = trace
        self.node = node
        super.init(isTraceMarker: true)
    }
}

/// One node of a trace: an argument, a constant, or a primitive applied to earlier nodes.
struct TraceNode<Scalar: TensorScalar> {
    /// What the node computes.
    var kind: OpKind
    /// The nodes of the inputs, in order.
    var inputs: [Int32]
    /// The shape of the value.
    var shape: [Int]
    /// For a primitive: recomputes the value from the inputs' values (untraced), for kinds the compiler runs
    /// as they are.
    var replay: (([Tensor<Scalar>]) -> Tensor<Scalar>)?
    /// For a constant: its value.
    var constant: Tensor<Scalar>?
    /// For a gather or scatter at positions chosen by values (max pooling and its pullback): how the compiler
    /// sees those positions.
    var routing: TracedRouting<Scalar>? = nil
}

/// Positions chosen by values (each pooling window's maximum), as the compiler sees them on a gather or
/// scatter node whose last input is the routing's source.
struct TracedRouting<Scalar: TensorScalar> {
    /// The memo of the rule that chooses the positions, shared by a gather and the scatter of its pullback
    /// (a compiled program empties it at the end of each call).
    let memo: FlatRoutingMemo<Scalar>
    /// Identifies the rule: two such nodes with the same rule and the same source use the same positions.
    var id: ObjectIdentifier { ObjectIdentifier(memo) }
    /// For a scatter: the gather at the same positions (inputs: the tensor gathered from, the source), its
    /// transpose.
    var gather: (([Tensor<Scalar>]) -> Tensor<Scalar>)? = nil
}

/// A graph of primitives recorded by running a function on traced tensors, in execution order (a
/// topological order).
final class Trace<Scalar: TensorScalar>: @unchecked Sendable {
    /// The nodes, in execution order.
    private(set) var nodes: [TraceNode<Scalar>] = []
    /// Set when the traced function has returned: its traced values must not be used any more.
    private(set) var isFinished = false
    /// Constants already in the trace, by the identity of their storage (a weight used at every step of a
    /// loop is one node).
    private var constantNodes: [ConstantKey: Int32] = [:]
    /// The trace this one is nested in (a loop body traced inside a function), whose traced values this one
    /// may read: each becomes an argument of this trace after its own (closure conversion).
    let parent: Trace?
    /// How many arguments the traced function takes, before the captured ones.
    private(set) var argumentCount = 0
    /// Values of enclosing traces this trace read, in the order of their arguments.
    private(set) var captured: [Tensor<Scalar>] = []
    private var capturedNodes: [ObjectIdentifier: [Int32: Int32]] = [:]

    /// Whether the trace is an attempt that falls back to eager evaluation when the traced function reads a
    /// traced value on the host (an eager `scan` tracing its body), instead of stopping.
    let isTentative: Bool
    /// Set when a tentative trace (or one nested in it) saw a traced value read on the host: the trace does
    /// not describe the function, and its program must not be used.
    private(set) var readsOnHost = false

    /// The random streams the traced function drew from, each with its state before the trace's first draw
    /// from it (kept by the outermost trace). A compiled function puts them back before it runs its new
    /// program, so every call's numbers, the first's included, are drawn once and by the program.
    private(set) var streamsDrawnFrom: [(stream: RandomStream, before: SeededGenerator)] = []

    init(parent: Trace? = nil, tentative: Bool = false) {
        self.parent = parent
        isTentative = tentative || parent?.isTentative == true
    }

    /// Notes a host read of one of this trace's values: true when the outermost trace is tentative (which
    /// then falls back to eager evaluation), false when the read must stop the program.
    func toleratesHostRead() -> Bool {
        var root = self
        while let outer = root.parent { root = outer }
        guard root.isTentative else { return false }
        root.readsOnHost = true
        return true
    }

    /// Notes that the traced function is about to draw from `stream` (see `streamsDrawnFrom`).
    func noteDraw(from stream: RandomStream) {
        var root = self
        while let outer = root.parent { root = outer }
        guard !root.streamsDrawnFrom.contains(where: { $0.stream === stream }) else { return }
        root.streamsDrawnFrom.append((stream, stream.generator))
    }

    /// Appends the arguments' nodes and returns the traced arguments (their values unchanged).
    func arguments(_ values: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        argumentCount = values.count
        return values.enumerated().map { i, value in
            nodes.append(TraceNode(kind: .argument(i), inputs: [], shape: value.shape))
            return marked(value.untraced(), node: Int32(nodes.count - 1))
        }
    }

    /// Ends the trace.
    func finish() { isFinished = true }

    /// Whether `outer` encloses this trace.
    private func isNested(in outer: Trace) -> Bool {
        var t = parent
        while let trace = t {
            if trace === outer { return true }
            t = trace.parent
        }
        return false
    }

    /// The node of `value` in this trace: its own for a traced value, a constant node otherwise.
    func node(of value: Tensor<Scalar>) -> Int32 {
        if let marker = value.traceMarker {
            if marker.trace !== self, !marker.trace.isFinished, isNested(in: marker.trace) {
                // A value of an enclosing trace: an argument of this one.
                let outer = ObjectIdentifier(marker.trace)
                if let existing = capturedNodes[outer]?[marker.node] { return existing }
                nodes.append(TraceNode(kind: .argument(argumentCount + captured.count), inputs: [], shape: value.shape))
                captured.append(value)
                capturedNodes[outer, default: [:]][marker.node] = Int32(nodes.count - 1)
                return Int32(nodes.count - 1)
            }
            precondition(
                marker.trace === self && !isFinished,
                "compiled: a tensor traced by one compiled function was used outside its trace "
                    + "(stored in a variable and used by a later call, or mixed with another compiled function's "
                    + "trace); return it from the function instead")
            return marker.node
        }
        let key = ConstantKey(value)
        if let existing = constantNodes[key] { return existing }
        let constant = value.detached()
        nodes.append(TraceNode(kind: .constant, inputs: [], shape: value.shape, constant: constant))
        let node = Int32(nodes.count - 1)
        constantNodes[key] = node
        return node
    }

    /// Appends a primitive of `kind` applied to `inputs` whose value is `output`, and returns `output`
    /// marked as its node.
    func append(
        _ kind: OpKind, inputs: [Tensor<Scalar>], output: Tensor<Scalar>, routing: TracedRouting<Scalar>? = nil,
        replay: (([Tensor<Scalar>]) -> Tensor<Scalar>)?
    ) -> Tensor<Scalar> {
        let inputNodes = inputs.map { node(of: $0) }
        nodes.append(TraceNode(kind: kind, inputs: inputNodes, shape: output.shape, replay: replay, routing: routing))
        return marked(output, node: Int32(nodes.count - 1))
    }

    private func marked(_ value: Tensor<Scalar>, node: Int32) -> Tensor<Scalar> {
        var out = value
        out.materializeDeferredValue()
        out.annex = TraceMarker(trace: self, node: node)
        return out
    }
}

/// Identifies a constant's value: its storage's address and shape (a copy shares the storage), or a scalar's
/// bits.
private struct ConstantKey: Hashable {
    let address: Int
    let bits: UInt64
    let shape: [Int]

    init<Scalar: TensorScalar>(_ value: Tensor<Scalar>) {
        shape = value.shape
        if value.shape.isEmpty {
            address = 0
            bits = Double(value.scalarValue).bitPattern
        } else {
            address = value.withScalarBuffer { Int(bitPattern: $0.baseAddress) }
            bits = UInt64(value.scalarCount)
        }
    }
}

extension Tensor {
    /// This value without a trace marker: a constant.
    func untraced() -> Tensor {
        guard isTraced else { return self }
        var copy = self
        copy.annex = nil
        return copy
    }

    /// `self` is the value of a primitive of `kind` applied to `inputs`: appended to their trace and returned
    /// marked when one of them is traced (the caller checks that first, so that eager code never builds the
    /// closure). `replay` recomputes the value from new, untraced inputs; `routing` identifies the rule that
    /// chose a gather's or scatter's positions (see `TraceNode.routing`).
    func traced(
        _ kind: OpKind, _ inputs: [Tensor], routing: TracedRouting<Scalar>? = nil, replay: (([Tensor]) -> Tensor)?
    ) -> Tensor {
        // The innermost trace of the thread (a loop body inside a function reads the function's values), else
        // the inputs' own (which then reports a value used after its trace ended).
        guard let trace = Trace<Scalar>.current ?? inputs.lazy.compactMap({ $0.traceMarker?.trace }).first else {
            return self
        }
        return trace.append(kind, inputs: inputs, output: untraced(), routing: routing, replay: replay)
    }

    /// Stops with a message when a traced value is read on the host inside `compiled`.
    @inlinable @inline(__always)
    func requireHostReadable(_ operation: @autoclosure () -> String) {
        if annex != nil, isTraced { hostReadOfTracedValue(operation()) }
    }

    /// Stops with a message, unless the value's trace is tentative (which then knows not to use its program).
    @usableFromInline
    func hostReadOfTracedValue(_ operation: String) {
        if let marker = traceMarker, marker.trace.toleratesHostRead() { return }
        preconditionFailure(
            "compiled: \(operation) reads a traced value on the host. A compiled function is traced once and "
                + "replayed, so data-dependent control flow cannot be traced: a value read here would be the "
                + "first call's on every later call. Compute it with tensor operations, or pass it in as an input "
                + "(or call the function without compiled).")
    }
}

/// Runs `body` with `trace` as the calling thread's innermost trace (derivative rules then take their
/// compositional paths, see `fusedRulesAllowed`; random draws become nodes of it).
func withTracing<Scalar, R>(_ trace: Trace<Scalar>, _ body: () throws -> R) rethrows -> R {
    let context = ThreadContext.current
    context.tracingDepth += 1
    context.traces.append(trace)
    defer {
        context.tracingDepth -= 1
        context.traces.removeLast()
    }
    return try body()
}

extension Trace {
    /// The calling thread's innermost trace of this scalar type, if it is tracing.
    static var current: Trace? {
        let context = ThreadContext.current
        guard context.tracingDepth > 0 else { return nil }
        for trace in context.traces.reversed() { if let trace = trace as? Trace { return trace } }
        return nil
    }
}

/// Whether derivative rules may take fused first-order shortcuts that compute buffers directly: not while
/// recording (the derivative will be differentiated again) and not while tracing (the trace must see every
/// primitive).
func fusedRulesAllowed() -> Bool {
    !recordingEnabled() && ThreadContext.current.tracingDepth == 0
}

/// Whether the calling thread is tracing a compiled function.
var isTracing: Bool { ThreadContext.current.tracingDepth > 0 }
