import CBackpropKernels
import Foundation

/// The first non-finite value or gradient seen under `withAnomalyDetection`: which primitive produced it,
/// in which pass, with what input shapes, and where.
public struct AnomalyDetected: Error, CustomStringConvertible, Sendable {
    /// The primitive's name (`"log"`, `"matmul"`, `"softmaxCrossEntropy"`, …).
    public var primitive: String
    /// `"value"` for the forward pass, `"gradient for input k"` for the backward pass.
    public var pass: String
    /// The shapes of the primitive's inputs.
    public var inputShapes: [[Int]]
    /// The first offending element, as text (`nan`, `inf`, `-inf`).
    public var element: String
    /// Where the primitive was applied: the caller's frames outside the library, as the C library names
    /// them, when they could be read.
    public var site: String?
    /// Where the anomaly-detection scope was opened (file:line).
    public var scope: String

    /// One line naming all of the above.
    public var description: String {
        "non-finite \(pass) (\(element)) from \(primitive) with input shapes \(inputShapes)"
            + (site.map { ", applied at \($0)" } ?? "") + " (anomaly detection opened at \(scope))"
    }
}

/// Anomaly detection (PyTorch's `detect_anomaly`): while it is on, the first primitive whose value or
/// whose gradient is not finite is remembered, with its name, the shapes of its inputs and the place in the
/// caller's code that applied it, and `withAnomalyDetection` throws it when its body returns.
///
/// Off by default, and then free: recording already reads one process-wide counter of open
/// `withoutRecording` and `withAnomalyDetection` scopes, and looks further only when it is not zero.
enum AnomalyDetection {
    /// Whether the calling thread is inside `withAnomalyDetection`.
    static var isOn: Bool { bp_recording_disabled_scope_count() != 0 && ThreadContext.current.anomalyDepth > 0 }

    /// Where the caller applied a primitive: the first named frames of the call stack outside this library
    /// (nil where the binary has no symbols to name them, as in a stripped release build).
    static func callSite() -> String? {
        // The C library's names for the frames (backtrace_symbols), the first being Foundation's own.
        callSite(frames: Array(Thread.callStackSymbols.prefix(25)))
    }

    /// The first three named frames of `frames` ("binary(symbol+0x1f) [address]", as glibc's
    /// backtrace_symbols writes them) outside the library, Foundation, the Swift runtime and the C library.
    static func callSite(frames: [String]) -> String? {
        let named = frames.filter { frame in
            guard let open = frame.firstIndex(of: "("), frame.index(after: open) < frame.endIndex else { return false }
            return frame[frame.index(after: open)] != "+" && frame[frame.index(after: open)] != ")"
        }
        let outside = named.filter {
            !$0.contains("8Backprop") && !$0.contains("libswiftCore") && !$0.contains("libc.so")
                && !$0.contains("libFoundation") && !$0.contains("10Foundation")
        }
        return outside.isEmpty ? nil : outside.prefix(3).joined(separator: " <- ")
    }

    /// Notes an anomaly if any element of `value`, the output of `name`, is NaN or infinite.
    static func checkValue<Scalar>(_ value: Tensor<Scalar>, of name: String, inputs: [Tensor<Scalar>]) {
        guard isOn, let bad = firstNonFinite(value) else { return }
        note(AnomalyDetected(
            primitive: name, pass: "value", inputShapes: inputs.map(\.shape), element: "\(bad)",
            site: callSite(), scope: ThreadContext.current.anomalySite ?? "unknown"))
    }

    /// Notes an anomaly if a gradient a pullback produced has a NaN or infinite element.
    static func checkGradients<Scalar>(_ gradients: [Tensor<Scalar>?], of record: TensorRecord<Scalar>, on tape: Tape<Scalar>) {
        guard isOn else { return }
        for (k, g) in gradients.enumerated() {
            guard let g, let bad = firstNonFinite(g) else { continue }
            note(AnomalyDetected(
                primitive: record.name, pass: "gradient for input \(k)",
                inputShapes: record.parents.map { $0 >= 0 ? tape.shape(of: $0) : [] }, element: "\(bad)",
                site: record.site, scope: ThreadContext.current.anomalySite ?? "unknown"))
            return
        }
    }

    /// Notes an anomaly if a scalar record's local partial derivative is not finite (its gradient will not be).
    static func checkScalarPartials<Scalar>(_ partials: [Tensor<Scalar>], of name: String, inputs: [Tensor<Scalar>]) {
        guard isOn else { return }
        for (k, (p, input)) in zip(partials, inputs).enumerated() where input.isTracked && !p.scalar.isFinite {
            note(AnomalyDetected(
                primitive: name, pass: "gradient for input \(k)", inputShapes: inputs.map(\.shape),
                element: "\(p.scalar)", site: callSite(), scope: ThreadContext.current.anomalySite ?? "unknown"))
            return
        }
    }

    /// The first element that is not finite, if any.
    static func firstNonFinite<Scalar>(_ t: Tensor<Scalar>) -> Scalar? {
        t.withScalarBuffer { p in p.first { !$0.isFinite } }
    }

    /// Keeps the first anomaly of the innermost scope.
    private static func note(_ anomaly: AnomalyDetected) {
        let context = ThreadContext.current
        if context.firstAnomaly == nil { context.firstAnomaly = anomaly }
    }
}

/// Runs `body` with anomaly detection on for the calling thread, and throws `AnomalyDetected` naming the
/// first primitive whose forward value or backward gradient had a NaN or an infinite element (its name,
/// its input shapes, and where it was applied), also when `body` itself throws after that. For debugging a loss that turns into NaN: it makes every
/// operation scan its result, so leave it off otherwise (off, it costs nothing). Compiled functions called
/// inside run uncompiled, operation by operation, so that their operations are checked too.
///
/// ```swift
/// do {
///     try withAnomalyDetection { loss(parameters).backward() }
/// } catch let anomaly as AnomalyDetected {
///     print(anomaly)   // non-finite value (nan) from log with input shapes [[3]] …
/// }
/// ```
public func withAnomalyDetection<R>(
    file: StaticString = #fileID, line: UInt = #line, _ body: () throws -> R
) throws -> R {
    let context = ThreadContext.current
    let previousSite = context.anomalySite, previousAnomaly = context.firstAnomaly
    context.anomalyDepth += 1
    context.anomalySite = "\(file):\(line)"
    context.firstAnomaly = nil
    bp_recording_disabled_scopes_add(1)
    defer {
        context.anomalyDepth -= 1
        context.anomalySite = previousSite
        context.firstAnomaly = previousAnomaly
        bp_recording_disabled_scopes_add(-1)
    }
    let result: R
    do {
        result = try body()
    } catch {
        // An error the anomaly led to (a divergence check, say): the anomaly is the cause to report.
        if let anomaly = context.firstAnomaly { throw anomaly }
        throw error
    }
    if let anomaly = context.firstAnomaly { throw anomaly }
    return result
}
