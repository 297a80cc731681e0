import CBackpropKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread recording state: whether recording is switched off, and which tape new leaves join.
///
/// Each thread records on its own tapes, so gradients can be computed on several threads at once.
@usableFromInline
final class ThreadContext {
    /// Greater than zero inside `withoutRecording`.
    @usableFromInline var recordingDisabled = 0
    /// Greater than zero inside `withAnomalyDetection`.
    var anomalyDepth = 0
    /// Open `withDeferredValues` scopes: primitives that can defer their value do (see `DeferredValue`).
    var defersValues = 0
    /// Open traces of `compiled` functions on this thread.
    var tracingDepth = 0
    /// The traces themselves, innermost last.
    var traces: [AnyObject] = []
    /// True while a reverse sweep records only because it is traced: its cotangents will not be differentiated,
    /// so a rule may compute them by a program the trace sees as one opaque step (a scan's reverse loop).
    var sweepIsFirstOrder = false
    /// Where the innermost `withAnomalyDetection` was opened (file:line).
    var anomalySite: String?
    /// The first anomaly seen in the innermost `withAnomalyDetection` scope.
    var firstAnomaly: AnomalyDetected?
    /// Tapes made current by the functional API (innermost last).
    var scopedTapes: [AnyObject] = []
    /// The tape that PyTorch-style leaves join when no input of an operation is on a tape yet. Held weakly:
    /// a graph nobody keeps a tensor of is freed, and the next operation starts a new tape.
    weak var defaultFloatTape: Tape<Float>?
    weak var defaultDoubleTape: Tape<Double>?
    /// Node buffers of released tapes, kept for reuse (see `NodeBufferCache`).
    var spareNodeBuffers: [ObjectIdentifier: (base: UnsafeMutableRawPointer, capacity: Int)] = [:]
    /// Emptied arrays of tensor records of released tapes, kept for reuse (see `RecordArrayCache`).
    var spareRecordArrays: [ObjectIdentifier: Any] = [:]

    deinit {
        for spare in spareNodeBuffers.values { spare.base.deallocate() }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            #if canImport(Darwin)
            Unmanaged<ThreadContext>.fromOpaque(pointer).release()
            #else
            if let pointer { Unmanaged<ThreadContext>.fromOpaque(pointer).release() }
            #endif
        }
        return key
    }()

    /// The calling thread's context.
    @usableFromInline
    static var current: ThreadContext {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<ThreadContext>.fromOpaque(pointer).takeUnretainedValue()
        }
        let context = ThreadContext()
        pthread_setspecific(key, Unmanaged.passRetained(context).toOpaque())
        return context
    }

    /// The tape that an operation with no taped input records on.
    func currentTape<Scalar: TensorScalar>(_: Scalar.Type) -> Tape<Scalar> {
        for tape in scopedTapes.reversed() {
            if let tape = tape as? Tape<Scalar> { return tape }
        }
        if Scalar.self == Double.self {
            if let tape = defaultDoubleTape, !tape.isReleased { return tape as! Tape<Scalar> }
            let tape = Tape<Double>()
            defaultDoubleTape = tape
            return tape as! Tape<Scalar>
        } else {
            if let tape = defaultFloatTape, !tape.isReleased { return tape as! Tape<Scalar> }
            let tape = Tape<Float>()
            defaultFloatTape = tape
            return tape as! Tape<Scalar>
        }
    }
}

/// Runs `body` without recording any operation on a gradient tape, as for inference or optimizer
/// updates. Results are constants; nothing is kept for a backward pass.
public func withoutRecording<R>(_ body: () throws -> R) rethrows -> R {
    let context = ThreadContext.current
    context.recordingDisabled += 1
    bp_recording_disabled_scopes_add(1)
    defer {
        context.recordingDisabled -= 1
        bp_recording_disabled_scopes_add(-1)
    }
    return try body()
}

/// Whether operations on the calling thread are being recorded (false inside `withoutRecording`).
public var isRecording: Bool { recordingEnabled() }

/// Whether the calling thread records operations: true unless it is inside `withoutRecording`. Reads
/// per-thread state only while some thread has recording switched off.
@inline(__always) @usableFromInline
func recordingEnabled() -> Bool {
    bp_recording_disabled_scope_count() == 0 || ThreadContext.current.recordingDisabled == 0
}

/// Runs `body` with recording switched on for the calling thread, even inside `withoutRecording`: the
/// transforms record the functions they differentiate whatever scope they are called from.
func withRecordingEnabled<R>(_ body: () throws -> R) rethrows -> R {
    let context = ThreadContext.current
    let disabled = context.recordingDisabled
    guard disabled > 0 else { return try body() }
    context.recordingDisabled = 0
    bp_recording_disabled_scopes_add(-disabled)
    defer {
        context.recordingDisabled = disabled
        bp_recording_disabled_scopes_add(disabled)
    }
    return try body()
}

/// The innermost tape made current by a transform on the calling thread, for `Scalar`, if any.
func innermostTransformTape<Scalar: TensorScalar>(_: Scalar.Type) -> Tape<Scalar>? {
    for tape in ThreadContext.current.scopedTapes.reversed() {
        if let tape = tape as? Tape<Scalar>, !tape.isReleased { return tape }
    }
    return nil
}

/// Runs `body` as if no transform were open on the calling thread: transforms inside it start tapes of their
/// own instead of nesting in an enclosing one (a primitive's value computed from untracked inputs, such as a
/// scan's body, must not record on the tape of the transform that differentiates the primitive).
func outsideEnclosingTransforms<R>(_ body: () throws -> R) rethrows -> R {
    let context = ThreadContext.current
    let saved = context.scopedTapes
    context.scopedTapes = []
    defer { context.scopedTapes = saved }
    return try body()
}

/// Runs `body` with `tape` as the calling thread's current tape.
func withCurrentTape<Scalar: TensorScalar, R>(_ tape: Tape<Scalar>, _ body: () throws -> R) rethrows -> R {
    let context = ThreadContext.current
    context.scopedTapes.append(tape)
    defer { context.scopedTapes.removeLast() }
    return try body()
}
