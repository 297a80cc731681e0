/// The outcome of comparing reverse-mode gradients with central finite differences.
public struct GradientCheckResult: Sendable, CustomStringConvertible {
    /// The largest relative error |analytic − numeric| / max(1, |analytic|, |numeric|) over all elements.
    public var maxRelativeError: Double
    /// Reverse-mode gradients, one per input.
    public var analytic: [Tensor<Double>]
    /// Finite-difference gradients, one per input.
    public var numeric: [Tensor<Double>]

    /// Whether the largest relative error is at most `tolerance`.
    public func passes(tolerance: Double = 1e-6) -> Bool { maxRelativeError <= tolerance }

    /// A one-line summary.
    public var description: String { "max relative error \(maxRelativeError)" }
}

/// Compares the reverse-mode gradients of `f` at `inputs` with central finite differences
/// (f(x + h) − f(x − h)) / 2h in float64, element by element, and reports the largest relative error.
///
/// `f` must return a one-element tensor.
public func checkGradients(
    at inputs: [Tensor<Double>], stepSize h: Double = 1e-6, of f: ([Tensor<Double>]) -> Tensor<Double>
) -> GradientCheckResult {
    let analytic = gradient(at: inputs, of: f)
    var numeric: [Tensor<Double>] = []
    var worst = 0.0
    for (index, input) in inputs.enumerated() {
        var values = input.scalars
        var estimate = [Double](repeating: 0, count: values.count)
        for i in values.indices {
            let original = values[i]
            func evaluate(_ v: Double) -> Double {
                values[i] = v
                var shifted = inputs
                shifted[index] = Tensor(shape: input.shape, scalars: values)
                return withoutRecording { f(shifted) }.scalar
            }
            estimate[i] = (evaluate(original + h) - evaluate(original - h)) / (2 * h)
            values[i] = original
        }
        let exact = analytic[index].scalars
        for (a, n) in zip(exact, estimate) {
            let error = Swift.abs(a - n) / Swift.max(1, Swift.abs(a), Swift.abs(n))
            worst = Swift.max(worst, error.isNaN ? .infinity : error)
        }
        numeric.append(Tensor(shape: input.shape, scalars: estimate))
    }
    return GradientCheckResult(maxRelativeError: worst, analytic: analytic, numeric: numeric)
}

/// Compares the reverse-mode gradient of a one-input function with central finite differences.
public func checkGradient(
    at x: Tensor<Double>, stepSize h: Double = 1e-6, of f: (Tensor<Double>) -> Tensor<Double>
) -> GradientCheckResult {
    checkGradients(at: [x], stepSize: h) { f($0[0]) }
}
