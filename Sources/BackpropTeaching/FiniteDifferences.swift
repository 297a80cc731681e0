// Numerical differentiation, lecture 004's "much, much slower in general" alternative: each partial from
// evaluations of the formula alone (the engine's value, nothing recorded), one or two per variable.

/// How a finite difference samples the formula around the point.
public enum FiniteDifferenceScheme: String, CaseIterable, Sendable {
    /// (f(x + h·eᵢ) − f(x)) / h: n + 1 evaluations, error O(h).
    case forward
    /// (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h: 2n evaluations, error O(h²).
    case central
}

extension Formula {
    /// Every partial at `point` (one value per variable) by `scheme`, with its step scaled to each coordinate.
    ///
    /// - Returns: the partials and how many times the formula was evaluated.
    public func finiteDifferenceGradient(
        at point: [Double], scheme: FiniteDifferenceScheme
    ) -> (partials: [Double], evaluations: Int) {
        precondition(point.count == variables.count, "finiteDifferenceGradient: \(variables.count) values needed")
        // Steps near the optimum for each scheme: √ε for forward, ∛ε for central, relative to |xᵢ|.
        let relative = scheme == .forward ? 1.4901161193847656e-8 : 6.055454452393343e-6
        var evaluations = 0
        let center = scheme == .forward ? value(at: point) : 0
        if scheme == .forward { evaluations += 1 }
        var partials: [Double] = []
        for index in point.indices {
            let h = relative * max(1, Swift.abs(point[index]))
            var plus = point, minus = point
            plus[index] += h
            minus[index] -= h
            let up = value(at: plus)
            switch scheme {
            case .forward:
                partials.append((up - center) / (plus[index] - point[index]))
                evaluations += 1
            case .central:
                partials.append((up - value(at: minus)) / (plus[index] - minus[index]))
                evaluations += 2
            }
        }
        return (partials, evaluations)
    }
}
