import CBackpropKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Anomaly detection (PyTorch's `detect_anomaly`): while it is on, the first primitive whose value or
/// whose gradient is not finite stops the program with a message naming the primitive, the shapes of its
/// inputs and the place in the caller's code that applied it.
///
/// Off by default, and then free: recording already reads one process-wide counter of open
/// `withoutRecording` and `withAnomalyDetection` scopes, and looks further only when it is not zero.
enum AnomalyDetection {
    /// Whether the calling thread is inside `withAnomalyDetection`.
    static var isOn: Bool { bp_recording_disabled_scope_count() != 0 && ThreadContext.current.anomalyDepth > 0 }

    /// Where the caller applied a primitive: the first frames of the call stack outside this library, as
    /// the C library names them (recorded only while anomaly detection is on, for gradient reports).
    static func callSite() -> String {
        guard let text = bp_call_stack_symbols(24) else { return "unknown" }
        defer { free(text) }
        let names = String(cString: text).split(separator: "\n").map(String.init)
        let outside = names.filter { !$0.contains("Backprop") && !$0.contains("libswiftCore") }
        return outside.prefix(3).joined(separator: " <- ")
    }

    /// Stops if any element of `value`, the output of `name`, is NaN or infinite.
    static func checkValue<Scalar>(_ value: Tensor<Scalar>, of name: String, inputs: [Tensor<Scalar>]) {
        guard isOn, let bad = firstNonFinite(value) else { return }
        report("the value of \(name)", bad, inputs.map(\.shape), value.shape)
    }

    /// Stops if a gradient a pullback produced has a NaN or infinite element.
    static func checkGradients<Scalar>(_ gradients: [Tensor<Scalar>?], of record: TensorRecord<Scalar>, on tape: Tape<Scalar>) {
        guard isOn else { return }
        for (k, g) in gradients.enumerated() {
            guard let g, let bad = firstNonFinite(g) else { continue }
            let shapes = record.parents.map { $0 >= 0 ? tape.shape(of: $0) : [] }
            let site = record.site.map { "; recorded at \($0)" } ?? ""
            report("the gradient of \(record.name) for its input \(k)\(site)", bad, shapes, g.shape)
        }
    }

    /// The first element that is not finite, if any.
    static func firstNonFinite<Scalar>(_ t: Tensor<Scalar>) -> Scalar? {
        t.withScalarBuffer { p in p.first { !$0.isFinite } }
    }

    private static func report<Scalar>(_ what: String, _ bad: Scalar, _ inputShapes: [[Int]], _ shape: [Int]) -> Never {
        let context = ThreadContext.current
        let site = context.anomalySite.map { " (anomaly detection opened at \($0))" } ?? ""
        preconditionFailure(
            "Backprop anomaly: \(what) has a non-finite element (\(bad)) in shape \(shape); input shapes \(inputShapes)\(site)")
    }
}

/// Runs `body` with anomaly detection on for the calling thread: the first primitive whose forward value
/// or backward gradient has a NaN or an infinite element stops the program with a message naming the
/// primitive and its input shapes. For debugging a loss that turns into NaN; it makes every operation
/// scan its result, so leave it off otherwise (off, it costs nothing).
public func withAnomalyDetection<R>(
    file: StaticString = #fileID, line: UInt = #line, _ body: () throws -> R
) rethrows -> R {
    let context = ThreadContext.current
    let previous = context.anomalySite
    context.anomalyDepth += 1
    context.anomalySite = "\(file):\(line)"
    bp_recording_disabled_scopes_add(1)
    defer {
        context.anomalyDepth -= 1
        context.anomalySite = previous
        bp_recording_disabled_scopes_add(-1)
    }
    return try body()
}
