// Deferred values: a recorded node whose value is computed only when something reads it.
//
// A recording sweep (the derivative of a derivative) records the products its rules compute, but not every
// recorded value is read again. Forward-over-reverse (`hessianVectorProduct`, `hessian`) reads only the
// *tangents* of the gradient: the values of the last products of the reverse sweep, the weight gradients
// op(a)ᵀ·G of every matrix product, are recorded for their tangent rules and never looked at (17% of the
// multiply-adds of the hvp-mlp benchmark). XLA removes such work by dead-code elimination after tracing;
// here the same products are recorded with their value deferred, and computed the first time anything
// reads them: an operation on the tensor, saving it for a rule, `scalars`, `detached()`. Their
// derivative rules read their inputs, never their output, so a sweep over them reads nothing deferred.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// How to compute one deferred node's value, and the value once computed.
final class DeferredValue<Scalar: TensorScalar>: @unchecked Sendable {
    private var compute: (() -> [Scalar])?
    private var value: [Scalar] = []
    private var lock = pthread_mutex_t()

    init(_ compute: @escaping () -> [Scalar]) {
        self.compute = compute
        pthread_mutex_init(&lock, nil)
    }

    deinit { pthread_mutex_destroy(&lock) }

    /// Whether the value has been computed.
    var isComputed: Bool {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return compute == nil
    }

    /// The value, computed on the first call (once, even when several threads ask at the same time).
    var values: [Scalar] {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let compute {
            value = compute()
            self.compute = nil
        }
        return value
    }
}

extension Tape {
    /// Registers how to compute `node`'s value.
    func deferValue(of node: Int32, _ value: DeferredValue<Scalar>) {
        deferredLock.withLock { deferredValues[node] = value }
    }

    /// The value of the deferred `node`, computed now if nothing read it before; nil when the node's value
    /// was not deferred. Deferred values outlive `release()`: a tensor that still refers to the tape can be
    /// read afterwards.
    func deferredValue(of node: Int32) -> [Scalar]? {
        deferral(of: node)?.values
    }

    /// How `node`'s value is computed, when it was deferred.
    func deferral(of node: Int32) -> DeferredValue<Scalar>? {
        deferredLock.withLock { deferredValues[node] }
    }
}

/// A mutex for the tape's table of deferred values.
final class DeferredValueLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }

    deinit { pthread_mutex_destroy(&mutex) }

    /// Runs `body` holding the lock.
    func withLock<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

extension Tensor {
    /// The values of a tensor that may be deferred (`mayBeDeferred`): computed on first read, or the
    /// (empty) stored values when it was not deferred.
    @usableFromInline
    func deferredValues() -> [Scalar] {
        guard let tape, node >= 0 else { return storage }
        return tape.deferredValue(of: node) ?? storage
    }

    /// Stores the computed values in this tensor, so that later reads and mutations use them directly and
    /// it can leave its tape.
    @inlinable @inline(__always)
    mutating func materializeDeferredValue() {
        if mayBeDeferred { storage = deferredValues() }
    }

    /// Records a primitive whose value is computed only when read, if deferral is on (a rule running in a
    /// recording sweep) and the primitive is recorded; nil otherwise, and the caller computes it now.
    ///
    /// The rules must not read the output (`savingOutput` is not offered), so that sweeping the node
    /// never computes it. Anomaly detection checks every value as it is produced, so it turns deferral
    /// off.
    static func recordedDeferred(
        shape: [Int], _ name: String, inputs: [Tensor], saving: [Tensor],
        vjp: @escaping (_ cotangent: Tensor, _ saved: [Tensor]) -> [Tensor?],
        jvp: @escaping (_ tangents: [Tensor?], _ saved: [Tensor]) -> Tensor?,
        batchedVJP: ((_ cotangents: Tensor, _ saved: [Tensor]) -> [Tensor?])? = nil,
        batchedJVP: ((_ tangents: [Tensor?], _ saved: [Tensor]) -> Tensor?)? = nil,
        compute: @escaping () -> [Scalar]
    ) -> Tensor? {
        guard !shape.isEmpty, ThreadContext.current.defersValues > 0, ThreadContext.current.tracingDepth == 0,
              !AnomalyDetection.isOn,
              inputs.contains(where: { $0.isTracked }), recordingEnabled()
        else { return nil }
        let out = Tensor(shape: shape, buffer: []).recorded(
            name, inputs: inputs, saving: saving, vjp: vjp, jvp: jvp, batchedVJP: batchedVJP, batchedJVP: batchedJVP)
        guard let tape = out.tape else { return nil }
        tape.deferValue(of: out.node, DeferredValue(compute))
        return out
    }
}

extension Tensor {
    /// `a + b` for a recording sweep's gradient accumulation (a weight used several times): deferred when
    /// either term is, so that summing deferred products does not compute them; `a + b` otherwise.
    static func accumulated(_ a: Tensor, _ b: Tensor) -> Tensor {
        guard a.shape == b.shape else { return a + b }
        // ∂(a+b)/∂a = ∂(a+b)/∂b = 1, for one cotangent or tangent or a batch of them alike.
        let vjp: (Tensor, [Tensor]) -> [Tensor?] = { g, _ in [g, g] }
        let jvp: ([Tensor?], [Tensor]) -> Tensor? = { t, _ in t[0].map { ta in t[1].map { ta + $0 } ?? ta } ?? t[1] }
        let sum = recordedDeferred(
            shape: a.shape, "add", inputs: [a, b], saving: [], vjp: vjp, jvp: jvp, batchedVJP: vjp, batchedJVP: jvp,
            compute: { [a = a.valueSource(), b = b.valueSource()] in
                (Tensor(shape: a.shape, buffer: a.values()) + Tensor(shape: b.shape, buffer: b.values())).scalars
            })
        return sum ?? a + b
    }

    /// A way to read this tensor's values later without keeping its tape alive (a deferred computation
    /// held by the tape would otherwise hold the tape): the deferred value itself, or the values now.
    func valueSource() -> (shape: [Int], values: () -> [Scalar]) {
        if mayBeDeferred, let deferred = tape?.deferral(of: node) {
            return (shape, { deferred.values })
        }
        let values = detached()
        return (shape, { values.scalars })
    }
}

/// Runs `body` with deferral on: primitives that support it record their value unevaluated.
func withDeferredValues<R>(_ body: () throws -> R) rethrows -> R {
    let context = ThreadContext.current
    context.defersValues += 1
    defer { context.defersValues -= 1 }
    return try body()
}
