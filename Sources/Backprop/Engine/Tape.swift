#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Wengert list: every primitive applied to a tracked tensor, in execution order.
///
/// Recording order is already a topological order, so the backward pass is one reverse sweep over the
/// records with no recursion and no sort: linear time and space in the number of nodes.
///
/// Records are kept as a structure of arrays. A *scalar record* (rank-0 inputs and output) stores its
/// parents, its local partial derivatives ∂out/∂parent computed during the forward pass (lecture 002:
/// "compute all derivatives between each input/output pair and store them"), its input values and the
/// code of its primitive: a first-order backward step is two multiply-adds with no closure and no heap
/// object, and a differentiable (higher-order) step rebuilds the partials from the primitive's rule. A
/// *tensor record* keeps the primitive's `DerivativeRule` (its vector-Jacobian and Jacobian-vector
/// products, written next to the primitive's forward definition) and the values that rule needs.
///
/// Nested transforms share one tape: an inner transform records after the outer one and sweeps only its
/// own range of nodes (see `docs/engine.md`).
public final class Tape<Scalar: TensorScalar>: @unchecked Sendable {
    /// One entry per node, in recording order: a growable buffer of plain records reached through a
    /// constant pointer, so that appending pays no exclusivity check or copy-on-write test.
    @usableFromInline let storage: UnsafeMutablePointer<NodeStorage<Scalar>>
    /// Tensor records and leaves.
    @usableFromInline var records: [TensorRecord<Scalar>] = []
    /// Set once the tape has been swept and released; its tensors then behave as constants.
    @inlinable var isReleased: Bool { storage.pointee.isReleased }
    /// Whether leaves that require a gradient receive one when this tape is swept.
    let accumulatesIntoLeaves: Bool
    /// How to compute the values of deferred nodes (see `DeferredValue`); kept after `release()`.
    var deferredValues: [Int32: DeferredValue<Scalar>] = [:]
    /// Guards `deferredValues`.
    let deferredLock = DeferredValueLock()

    init(accumulatesIntoLeaves: Bool = true) {
        self.accumulatesIntoLeaves = accumulatesIntoLeaves
        storage = .allocate(capacity: 1)
        storage.initialize(to: NodeStorage())
        if let spare = RecordArrayCache.take(TensorRecord<Scalar>.self) { records = spare }
    }

    deinit {
        storage.pointee.recycle()
        storage.deinitialize(count: 1)
        storage.deallocate()
    }

    /// The recorded nodes, valid until the next append.
    var nodes: UnsafeBufferPointer<Node<Scalar>> {
        UnsafeBufferPointer(start: storage.pointee.base, count: storage.pointee.count)
    }

    /// The number of nodes recorded.
    public var nodeCount: Int { storage.pointee.count }

    /// Reserves room for `count` more nodes.
    public func reserveCapacity(_ count: Int) { storage.pointee.reserve(storage.pointee.count + count) }

    /// Appends a scalar record of primitive `code` with inputs `a` (value `va`) and `b` (value `vb`) and
    /// returns its node.
    @inlinable @inline(__always)
    func appendScalar(
        _ code: ScalarPrimitiveCode, _ a: Int32, _ da: Scalar, _ va: Scalar, _ b: Int32, _ db: Scalar, _ vb: Scalar
    ) -> Int32 {
        return storage.pointee.append(
            Node(parentA: a, parentB: b, record: ~code.rawValue, partialA: da, partialB: db, inputA: va, inputB: vb))
    }

    /// Appends a tensor record and returns its node.
    func appendRecord(_ record: consuming TensorRecord<Scalar>) -> Int32 {
        let node = storage.pointee.append(
            Node(parentA: -1, parentB: -1, record: Int32(records.count), partialA: 0, partialB: 0, inputA: 0, inputB: 0))
        records.append(record)
        return node
    }

    /// The node at `index` (read through the current buffer, which appends may move).
    @inline(__always)
    func node(_ index: Int) -> Node<Scalar> { storage.pointee.base.unsafelyUnwrapped[index] }

    /// Whether `node`'s value is a rank-0 tensor (its gradient is kept as a scalar).
    func isScalarNode(_ node: Int32) -> Bool {
        let r = self.node(Int(node)).record
        return r < 0 || records[Int(r)].shape.isEmpty
    }

    /// The shape of `node`'s value.
    func shape(of node: Int32) -> [Int] {
        let r = self.node(Int(node)).record
        return r < 0 ? [] : records[Int(r)].shape
    }

    /// Frees the recorded graph. Tensors that refer to it behave as constants afterwards.
    public func release() {
        storage.pointee.recycle()
        records.removeAll(keepingCapacity: true)
        RecordArrayCache.give(records)
        records = []
        storage.pointee.isReleased = true
    }
}

/// A growable array of nodes in memory the tape owns (nodes are plain data: no deinitialisation).
@usableFromInline
struct NodeStorage<Scalar: TensorScalar> {
    @usableFromInline var base: UnsafeMutablePointer<Node<Scalar>>? = nil
    @usableFromInline var count = 0
    @usableFromInline var capacity = 0
    /// Set once the tape has been released.
    @usableFromInline var isReleased = false

    @usableFromInline init() {
        if let spare = NodeBufferCache.take(Node<Scalar>.self) {
            base = spare.base
            capacity = spare.capacity
        }
    }

    /// Appends a node and returns its index.
    @inlinable @inline(__always)
    mutating func append(_ node: Node<Scalar>) -> Int32 {
        if count == capacity { reserve(Swift.max(1024, capacity * 2)) }
        (base.unsafelyUnwrapped + count).initialize(to: node)
        count += 1
        return Int32(truncatingIfNeeded: count - 1)
    }

    /// Grows the buffer to hold at least `minimum` nodes.
    @usableFromInline
    mutating func reserve(_ minimum: Int) {
        guard minimum > capacity else { return }
        precondition(minimum <= Int(Int32.max), "Backprop: a tape holds at most \(Int32.max) nodes")
        let grown = UnsafeMutablePointer<Node<Scalar>>.allocate(capacity: minimum)
        if let base {
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
        }
        base = grown
        capacity = minimum
    }

    /// Gives the buffer to the calling thread's cache (keeping its pages warm for the next tape) or frees it.
    mutating func recycle() {
        if let base { NodeBufferCache.give(base, capacity: capacity) }
        base = nil
        count = 0
        capacity = 0
    }
}

/// One node of the tape: for a scalar record, its primitive, parents, local partial derivatives and input
/// values; otherwise the index of its tensor record.
@usableFromInline
struct Node<Scalar: TensorScalar> {
    /// The first parent's node, or -1.
    @usableFromInline var parentA: Int32
    /// The second parent's node, or -1.
    @usableFromInline var parentB: Int32
    /// An index into the tape's tensor records when ≥ 0; for a scalar record, the bitwise complement of
    /// its `ScalarPrimitiveCode`.
    @usableFromInline var record: Int32
    /// ∂node/∂parentA.
    @usableFromInline var partialA: Scalar
    /// ∂node/∂parentB.
    @usableFromInline var partialB: Scalar
    /// The value of the first input (a constant's value when `parentA` is -1).
    @usableFromInline var inputA: Scalar
    /// The value of the second input (a constant's value when `parentB` is -1).
    @usableFromInline var inputB: Scalar

    @inlinable
    init(parentA: Int32, parentB: Int32, record: Int32, partialA: Scalar, partialB: Scalar, inputA: Scalar, inputB: Scalar) {
        self.parentA = parentA
        self.parentB = parentB
        self.record = record
        self.partialA = partialA
        self.partialB = partialB
        self.inputA = inputA
        self.inputB = inputB
    }
}

/// A recorded tensor primitive (or an input or leaf): its parents, its output shape, its derivative rule
/// and the values that rule reads.
@usableFromInline
struct TensorRecord<Scalar: TensorScalar> {
    /// The primitive's name, as traces and error messages print it (`"matmul"`, `"sin"`, `"leaf"`).
    var name: String
    /// The nodes of the inputs that are tracked; -1 for an input that is a constant.
    var parents: [Int32]
    /// The output's shape.
    @usableFromInline var shape: [Int]
    /// The derivative rule; nil for inputs and leaves.
    var rule: DerivativeRule<Scalar>?
    /// Values the rule reads, stored untracked, with the node each one was on (-1 for a constant, and
    /// this record's own node for the output): the sweeps hand them back attached to those nodes when
    /// they record, so that derivatives of derivatives see them as functions of the inputs.
    var saved: [Tensor<Scalar>] = []
    /// The nodes of `saved`.
    var savedNodes: [Int32] = []
    /// For a leaf that requires a gradient: where its gradient accumulates.
    var leafBox: GradientBox<Scalar>?
    /// Where the primitive was applied, kept only under anomaly detection.
    var site: String? = nil
}

/// Where a tensor that requires a gradient accumulates it across backward passes (PyTorch's `.grad`).
///
/// Shared by all copies of that tensor. Thread-safe.
@usableFromInline
final class GradientBox<Scalar: TensorScalar>: TensorAnnex<Scalar>, @unchecked Sendable {
    private var value: Tensor<Scalar>?
    private var lock = pthread_mutex_t()
    /// The tape this leaf last joined, and its node there (guarded by the lock).
    weak var joinedTape: Tape<Scalar>?
    var joinedNode: Int32 = -1

    func lockForCache() { pthread_mutex_lock(&lock) }
    func unlockForCache() { pthread_mutex_unlock(&lock) }

    init() {
        super.init(isTraceMarker: false)
        pthread_mutex_init(&lock, nil)
    }
    deinit { pthread_mutex_destroy(&lock) }

    /// The accumulated gradient, if any backward pass reached this tensor since it was last cleared.
    var gradient: Tensor<Scalar>? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return value
    }

    /// Adds `g` into the gradient: as a constant, or, when `differentiably` (a backward pass that builds
    /// a graph), as a tracked sum whose own derivatives can be taken.
    func accumulate(_ g: Tensor<Scalar>, differentiably: Bool = false) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if differentiably {
            value = value.map { $0 + g } ?? g
        } else if let old = value {
            value = add(old, g)
        } else {
            value = g.detached()
        }
    }

    func clear() {
        pthread_mutex_lock(&lock)
        value = nil
        pthread_mutex_unlock(&lock)
    }

    private func add(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
        withoutRecording { a + b }
    }
}

/// Each thread keeps the largest node buffer of a released tape, so that repeated gradient computations
/// reuse memory whose pages are already mapped instead of faulting in fresh pages every time.
enum NodeBufferCache {
    /// Takes the cached buffer for nodes of type `Node`, if any.
    static func take<Element>(_: Element.Type) -> (base: UnsafeMutablePointer<Element>, capacity: Int)? {
        let context = ThreadContext.current
        guard let spare = context.spareNodeBuffers[ObjectIdentifier(Element.self)] else { return nil }
        context.spareNodeBuffers[ObjectIdentifier(Element.self)] = nil
        return (spare.base.assumingMemoryBound(to: Element.self), spare.capacity)
    }

    /// Keeps `base` if it is larger than the cached buffer; frees the smaller one.
    static func give<Element>(_ base: UnsafeMutablePointer<Element>, capacity: Int) {
        let context = ThreadContext.current
        let key = ObjectIdentifier(Element.self)
        if let spare = context.spareNodeBuffers[key] {
            if spare.capacity >= capacity {
                base.deallocate()
                return
            }
            spare.base.deallocate()
        }
        context.spareNodeBuffers[key] = (UnsafeMutableRawPointer(base), capacity)
    }
}

/// Each thread keeps the largest (emptied) array of tensor records of a released tape, for the next tape to
/// append to: a tape of many records otherwise grows its array from empty every time, copying it at each
/// doubling into freshly mapped memory.
enum RecordArrayCache {
    /// Takes the cached array of records of type `Record`, if any.
    static func take<Record>(_: Record.Type) -> [Record]? {
        ThreadContext.current.spareRecordArrays.removeValue(forKey: ObjectIdentifier(Record.self)) as? [Record]
    }

    /// Keeps `records` (empty) if its capacity is larger than the cached array's.
    static func give<Record>(_ records: [Record]) {
        let context = ThreadContext.current
        let key = ObjectIdentifier(Record.self)
        if let spare = context.spareRecordArrays[key] as? [Record], spare.capacity >= records.capacity { return }
        context.spareRecordArrays[key] = records
    }
}
