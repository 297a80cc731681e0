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
    // One entry per node.
    @usableFromInline var parentA: [Int32] = []
    @usableFromInline var parentB: [Int32] = []
    @usableFromInline var partialA: [Scalar] = []
    @usableFromInline var partialB: [Scalar] = []
    /// -1 for a scalar record; otherwise an index into `records`.
    @usableFromInline var recordIndex: [Int32] = []
    /// Tensor records and leaves.
    @usableFromInline var records: [TensorRecord<Scalar>] = []
    /// Set once the tape has been swept and released; its tensors then behave as constants.
    @usableFromInline var isReleased = false
    /// Whether leaves that require a gradient receive one when this tape is swept.
    let accumulatesIntoLeaves: Bool

    init(accumulatesIntoLeaves: Bool = true) {
        self.accumulatesIntoLeaves = accumulatesIntoLeaves
    }

    /// The number of nodes recorded.
    public var nodeCount: Int { parentA.count }

    /// Reserves room for `count` more nodes.
    public func reserveCapacity(_ count: Int) {
        parentA.reserveCapacity(parentA.count + count)
        parentB.reserveCapacity(parentB.count + count)
        partialA.reserveCapacity(partialA.count + count)
        partialB.reserveCapacity(partialB.count + count)
        recordIndex.reserveCapacity(recordIndex.count + count)
    }

    /// Appends a scalar record and returns its node.
    @inlinable
    func appendScalar(_ a: Int32, _ da: Scalar, _ b: Int32, _ db: Scalar) -> Int32 {
        let node = Int32(truncatingIfNeeded: parentA.count)
        parentA.append(a)
        partialA.append(da)
        parentB.append(b)
        partialB.append(db)
        recordIndex.append(-1)
        return node
    }

    /// Appends a tensor record and returns its node.
    func appendRecord(_ record: TensorRecord<Scalar>) -> Int32 {
        let node = Int32(truncatingIfNeeded: parentA.count)
        parentA.append(-1)
        partialA.append(0)
        parentB.append(-1)
        partialB.append(0)
        recordIndex.append(Int32(records.count))
        records.append(record)
        return node
    }

    /// Whether `node`'s value is a rank-0 tensor (its gradient is kept as a scalar).
    @inlinable
    func isScalarNode(_ node: Int32) -> Bool {
        let r = recordIndex[Int(node)]
        return r < 0 || records[Int(r)].shape.isEmpty
    }

    /// Frees the recorded graph. Tensors that refer to it behave as constants afterwards.
    public func release() {
        parentA = []
        parentB = []
        partialA = []
        partialB = []
        recordIndex = []
        records = []
        isReleased = true
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
