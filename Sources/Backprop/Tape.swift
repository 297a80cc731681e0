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
/// parents and its local partial derivatives ∂out/∂parent, computed during the forward pass (lecture 002:
/// "compute all derivatives between each input/output pair and store them"), so its backward step is two
/// multiply-adds with no closure and no heap object. A *tensor record* keeps the primitive's pullback (its
/// vector-Jacobian product), written next to the primitive's forward definition.
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

    init(accumulatesIntoLeaves: Bool = true) {
        self.accumulatesIntoLeaves = accumulatesIntoLeaves
        storage = .allocate(capacity: 1)
        storage.initialize(to: NodeStorage())
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

    /// Appends a scalar record and returns its node.
    @inlinable
    func appendScalar(_ a: Int32, _ da: Scalar, _ b: Int32, _ db: Scalar) -> Int32 {
        return storage.pointee.append(Node(parentA: a, parentB: b, record: -1, partialA: da, partialB: db))
    }

    /// Appends a tensor record and returns its node.
    func appendRecord(_ record: TensorRecord<Scalar>) -> Int32 {
        let node = storage.pointee.append(Node(parentA: -1, parentB: -1, record: Int32(records.count), partialA: 0, partialB: 0))
        records.append(record)
        return node
    }

    /// Whether `node`'s value is a rank-0 tensor (its gradient is kept as a scalar).
    func isScalarNode(_ node: Int32) -> Bool {
        let r = storage.pointee.base.unsafelyUnwrapped[Int(node)].record
        return r < 0 || records[Int(r)].shape.isEmpty
    }

    /// Frees the recorded graph. Tensors that refer to it behave as constants afterwards.
    public func release() {
        storage.pointee.recycle()
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

/// One node of the tape: for a scalar record, its parents and local partial derivatives; otherwise the
/// index of its tensor record.
@usableFromInline
struct Node<Scalar: TensorScalar> {
    /// The first parent's node, or -1.
    @usableFromInline var parentA: Int32
    /// The second parent's node, or -1.
    @usableFromInline var parentB: Int32
    /// -1 for a scalar record; otherwise an index into the tape's tensor records.
    @usableFromInline var record: Int32
    /// ∂node/∂parentA.
    @usableFromInline var partialA: Scalar
    /// ∂node/∂parentB.
    @usableFromInline var partialB: Scalar

    @inlinable
    init(parentA: Int32, parentB: Int32, record: Int32, partialA: Scalar, partialB: Scalar) {
        self.parentA = parentA
        self.parentB = parentB
        self.record = record
        self.partialA = partialA
        self.partialB = partialB
    }
}

/// A recorded tensor primitive (or a leaf): its parents, its output shape and its pullback.
@usableFromInline
struct TensorRecord<Scalar: TensorScalar> {
    /// The primitive's name, as traces print it (`"matmul"`, `"sin"`, `"leaf"`).
    var name: String
    /// The nodes of the inputs that are tracked; -1 for an input that is a constant.
    var parents: [Int32]
    /// The output's shape.
    @usableFromInline var shape: [Int]
    /// Maps the output's cotangent to one cotangent per parent (nil where nothing flows).
    var pullback: ((Tensor<Scalar>) -> [Tensor<Scalar>?])?
    /// For a leaf that requires a gradient: where its gradient accumulates.
    var leafBox: GradientBox<Scalar>?
}

/// Where a tensor that requires a gradient accumulates it across backward passes (PyTorch's `.grad`).
///
/// Shared by all copies of that tensor. Thread-safe.
public final class GradientBox<Scalar: TensorScalar>: @unchecked Sendable {
    private var value: Tensor<Scalar>?
    private var lock = pthread_mutex_t()
    /// The tape this leaf last joined, and its node there (guarded by the lock).
    weak var joinedTape: Tape<Scalar>?
    var joinedNode: Int32 = -1

    func lockForCache() { pthread_mutex_lock(&lock) }
    func unlockForCache() { pthread_mutex_unlock(&lock) }

    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }

    /// The accumulated gradient, if any backward pass reached this tensor since it was last cleared.
    var gradient: Tensor<Scalar>? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return value
    }

    func accumulate(_ g: Tensor<Scalar>) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let old = value { value = add(old, g) } else { value = g.detached() }
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
