// Newton's method with the engine's Hessian: x ← x + t·p where (H + μI)·p = −∇f, μ ≥ 0 just large enough to
// make the matrix positive definite (so p goes downhill even where H is indefinite), and t from a
// backtracking line search (Armijo's sufficient decrease).

import Foundation

/// Settings for Newton's method.
public struct NewtonMethod: Sendable {
    /// The most steps to take.
    public var steps: Int
    /// Stop once ‖∇f‖ is at most this.
    public var tolerance: Double
    /// The most points of the path the result keeps (see `GradientDescentResult.path`).
    public var maximumPathCount = 10_000

    /// Creates settings; see the properties.
    public init(steps: Int = 100, tolerance: Double = 1e-8) {
        self.steps = steps
        self.tolerance = tolerance
    }

    /// Minimises `expression` from `start` (one value per variable), calling `onStep` at every point
    /// visited; gradients and Hessians come from the engine.
    public func minimize(
        _ expression: Formula, from start: [Double], onStep: (NewtonStep) -> Void = { _ in }
    ) -> GradientDescentResult {
        var point = start
        var path = DescentPath(capacity: maximumPathCount)
        var outcome = GradientDescentResult.Outcome.stepLimitReached
        var k = 0
        var lastShift = 0.0, lastStepLength = 0.0
        while true {
            let analysis = expression.hessianAnalysis(at: point)
            let g = analysis.gradient
            path.record(point, value: analysis.value)
            let norm = analysis.gradientNorm
            onStep(NewtonStep(iteration: k, point: point, value: analysis.value, gradientNorm: norm, shift: lastShift, stepLength: lastStepLength))
            let finite = analysis.value.isFinite && norm.isFinite && analysis.matrix.allSatisfy { $0.allSatisfy(\.isFinite) }
            if !finite { outcome = .diverged; break }
            if norm <= tolerance { outcome = .converged; break }
            if k == steps { break }
            // The safeguard: shift the spectrum so the smallest eigenvalue is at least 1e-8 of the largest.
            let n = point.count
            let largest = analysis.eigenvalues.map { Swift.abs($0) }.max() ?? 0
            let floor = Swift.max(1e-8 * largest, 1e-12)
            let shift = Swift.max(0, floor - (analysis.eigenvalues.first ?? 0))
            var a = analysis.matrix
            for i in 0..<n { a[i][i] += shift }
            var p = solveSymmetricPositiveDefinite(a, g.map { -$0 }) ?? g.map { -$0 }
            var slope = zip(g, p).reduce(0) { $0 + $1.0 * $1.1 }
            if !(slope < 0) { p = g.map { -$0 }; slope = -norm * norm }
            // Backtracking: halve t until f(x + t·p) ≤ f(x) + 1e-4·t·∇f·p.
            var t = 1.0
            var candidate = point
            for _ in 0..<60 {
                candidate = zip(point, p).map { $0 + t * $1 }
                let value = expression.value(at: candidate)
                if value.isFinite && value <= analysis.value + 1e-4 * t * slope { break }
                t /= 2
            }
            point = candidate
            lastShift = shift
            lastStepLength = t
            k += 1
        }
        let (points, values) = path.finished
        return GradientDescentResult(variables: expression.variables, path: points, values: values, stepCount: k, outcome: outcome)
    }
}

/// One point visited by Newton's method.
public struct NewtonStep: Sendable {
    /// How many steps led here.
    public var iteration: Int
    /// The point.
    public var point: [Double]
    /// f there.
    public var value: Double
    /// ‖∇f‖ there.
    public var gradientNorm: Double
    /// The shift μ added to the Hessian's diagonal for the step that led here (0 where H was positive definite).
    public var shift: Double
    /// The step length t the line search chose for the step that led here.
    public var stepLength: Double

    /// The header of the progress table for `variables`.
    public static func progressHeader(variables: [String]) -> String {
        (["step".padded(6)] + variables.map { $0.padded(24) } + ["f".padded(24), "‖∇f‖".padded(12), "t".padded(10), "μ"]).joined(separator: " ")
    }

    /// One aligned line of the progress table.
    public var progressLine: String {
        (["\(iteration)".padded(6)] + point.map { "\($0)".padded(24) }
            + ["\(value)".padded(24), formatSignificant(gradientNorm, digits: 4).padded(12),
               (iteration == 0 ? "" : formatSignificant(stepLength, digits: 4)).padded(10),
               iteration == 0 ? "" : formatSignificant(shift, digits: 3)])
            .joined(separator: " ")
    }
}

/// The solution of A·x = b for a symmetric positive definite A by Cholesky factorisation, or nil when the
/// factorisation breaks down (A not numerically positive definite).
func solveSymmetricPositiveDefinite(_ a: [[Double]], _ b: [Double]) -> [Double]? {
    let n = b.count
    var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n {
        for j in 0...i {
            var sum = a[i][j]
            for k in 0..<j { sum -= l[i][k] * l[j][k] }
            if i == j {
                guard sum > 0, sum.isFinite else { return nil }
                l[i][i] = sum.squareRoot()
            } else {
                l[i][j] = sum / l[j][j]
            }
        }
    }
    var y = b
    for i in 0..<n {
        for k in 0..<i { y[i] -= l[i][k] * y[k] }
        y[i] /= l[i][i]
    }
    var x = y
    for i in (0..<n).reversed() {
        for k in (i + 1)..<n { x[i] -= l[k][i] * x[k] }
        x[i] /= l[i][i]
    }
    return x
}

extension GradientDescentResult {
    /// Why Newton's method stopped, where, and the value there.
    public func newtonSummary(settings: NewtonMethod) -> String {
        let reason: String
        switch outcome {
        case .converged: reason = "converged: ‖∇f‖ ≤ \(settings.tolerance) after \(stepCount) Newton steps"
        case .stepLimitReached: reason = "stopped after \(stepCount) Newton steps (the --steps limit)"
        case .diverged: reason = "stopped after \(stepCount) Newton steps: a value, gradient or Hessian stopped being finite"
        }
        return summary(reason: reason)
    }
}
