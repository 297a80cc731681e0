// Lecture 000's gradient descent: x ← x − η·∇f(x), with an optional decreasing step size.

/// Settings for gradient descent: xₖ₊₁ = xₖ − ηₖ·∇f(xₖ) with ηₖ = η / (1 + decay·k).
public struct GradientDescent: Sendable {
    /// The initial step size η.
    public var learningRate: Double
    /// The most steps to take.
    public var steps: Int
    /// The most points of the path the result keeps (see `GradientDescentResult.path`).
    public var maximumPathCount = 10_000
    /// How fast the step size decreases: ηₖ = η / (1 + decay·k); 0 keeps it constant.
    public var decay: Double
    /// Stop once the gradient's norm is at most this (0: never stop early).
    public var tolerance: Double

    /// Creates settings; see the properties for their meaning.
    public init(learningRate: Double = 1e-3, steps: Int = 1000, decay: Double = 0, tolerance: Double = 0) {
        self.learningRate = learningRate
        self.steps = steps
        self.decay = decay
        self.tolerance = tolerance
    }

    /// The step size of step `k` (counting from 0).
    public func learningRate(atStep k: Int) -> Double { learningRate / (1 + decay * Double(k)) }

    /// Walks downhill from `start` (one value per variable, in `expression.variables` order), computing each
    /// gradient by reverse mode on the engine, and calls `onStep` at every point visited.
    public func minimize(
        _ expression: Formula, from start: [Double], onStep: (GradientDescentStep) -> Void = { _ in }
    ) -> GradientDescentResult {
        var point = start
        var path = DescentPath(capacity: maximumPathCount)
        var k = 0
        var outcome = GradientDescentResult.Outcome.stepLimitReached
        while true {
            let evaluation = expression.gradient(at: point)
            path.record(point, value: evaluation.value)
            let norm = evaluation.gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let eta = learningRate(atStep: k)
            onStep(GradientDescentStep(
                iteration: k, point: point, value: evaluation.value, gradient: evaluation.gradient, gradientNorm: norm,
                learningRate: eta))
            if !evaluation.value.isFinite || !norm.isFinite || !point.allSatisfy(\.isFinite) {
                outcome = .diverged
                break
            }
            if norm <= tolerance {
                outcome = .converged
                break
            }
            if k == steps { break }
            for i in point.indices { point[i] -= eta * evaluation.gradient[i] }
            k += 1
        }
        let (points, values) = path.finished
        return GradientDescentResult(variables: expression.variables, path: points, values: values, stepCount: k, outcome: outcome)
    }
}

/// One point visited by gradient descent.
public struct GradientDescentStep: Sendable {
    /// How many steps led here (0 for the start).
    public var iteration: Int
    /// The point, one value per variable.
    public var point: [Double]
    /// f at the point.
    public var value: Double
    /// ∇f at the point.
    public var gradient: [Double]
    /// ‖∇f‖.
    public var gradientNorm: Double
    /// The step size the next step uses.
    public var learningRate: Double
}

/// Where gradient descent went and why it stopped.
public struct GradientDescentResult: Sendable {
    /// Why the descent stopped.
    public enum Outcome: Sendable, Equatable {
        /// The gradient's norm fell to the tolerance.
        case converged
        /// It took the most steps allowed.
        case stepLimitReached
        /// A value, gradient or coordinate stopped being finite.
        case diverged
    }

    /// The variables, in the order of each point's coordinates.
    public var variables: [String]
    /// The points visited, the start first and the last point last: every one of them for a descent of up
    /// to `maximumPathCount` steps, evenly thinned beyond (every second, fourth, … step), so that memory stays
    /// bounded however many steps are asked for.
    public var path: [[Double]]
    /// f at each point of `path`.
    public var values: [Double]
    /// How many steps were taken.
    public var stepCount: Int
    /// Why it stopped.
    public var outcome: Outcome

    /// The last point.
    public var point: [Double] { path.last! }
    /// f at the last point.
    public var value: Double { values.last! }
}

extension GradientDescent {
    /// The steps whose progress is worth printing: about `lines` evenly spaced ones from 0 to `steps`.
    public func reportsProgress(atStep k: Int, lines: Int = 10) -> Bool {
        let every = Swift.max(1, steps / Swift.max(1, lines))
        return k % every == 0 || k == steps
    }
}

extension GradientDescentStep {
    /// The header of the progress table for `variables`.
    public static func progressHeader(variables: [String]) -> String {
        (["step".padded(8)] + variables.map { $0.padded(20) } + ["f".padded(24), "‖∇f‖".padded(12), "η"]).joined(separator: " ")
    }

    /// One aligned line of the progress table: step, point, value, gradient norm, step size.
    public var progressLine: String {
        (["\(iteration)".padded(8)] + point.map { "\($0)".padded(20) }
            + ["\(value)".padded(24), formatSignificant(gradientNorm, digits: 4).padded(12), formatSignificant(learningRate, digits: 4)])
            .joined(separator: " ")
    }
}

extension GradientDescentResult {
    /// Why it stopped, where, and the value there, in a few lines.
    public func summary(settings: GradientDescent) -> String {
        let reason: String
        switch outcome {
        case .converged: reason = "converged: ‖∇f‖ ≤ \(settings.tolerance) after \(stepCount) steps"
        case .stepLimitReached: reason = "stopped after \(stepCount) steps (the --steps limit)"
        case .diverged: reason = "diverged after \(stepCount) steps (a value stopped being finite); try a smaller --lr"
        }
        return summary(reason: reason)
    }

    /// `reason`, then the final point and value, one per line (the tail of every method's summary).
    func summary(reason: String) -> String {
        let point = zip(variables, self.point).map { "\($0) = \($1)" }.joined(separator: ", ")
        return "\(reason)\nfinal point: \(point)\nfinal value: f = \(value)"
    }
}

extension String {
    /// The string padded with spaces to at least `width` characters.
    func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
