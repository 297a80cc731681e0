// Lecture 004's methods side by side on one formula: reverse mode, forward mode, symbolic differentiation and
// finite differences, each with its partials' error against reverse mode, its passes or evaluations, the
// operations it executed and its time; under them, the graph's size and its number of paths of influence.

import Foundation

/// One method's row of the comparison.
public struct MethodResult: Sendable {
    /// The method's name.
    public var method: String
    /// Its partial derivatives, one per variable (nil entries where it could not evaluate them).
    public var partials: [Double?]
    /// What it ran: passes or evaluations, in words ("1 forward + 1 reverse", "4 evaluations").
    public var work: String
    /// The operations it executed (see each method's count), nil when it could not run.
    public var operations: Int?
    /// The median time of one run, in seconds.
    public var seconds: Double
}

/// Every method's result and the graph's paths.
public struct MethodComparison: Sendable {
    /// The formula.
    public let formula: Formula
    /// The point, one value per variable.
    public let point: [Double]
    /// The rows: reverse mode first (the reference), then forward mode, symbolic, forward and central differences.
    public let rows: [MethodResult]
    /// Nodes, edges and paths of the formula's graph.
    public let paths: GraphPaths
    /// Whether symbolic differentiation used the branches taken at the point.
    public let symbolicUsesBranches: Bool
    /// The size of each symbolic partial written out, repeats included.
    public let symbolicTreeSizes: [UnboundedCount]

    /// The most node evaluations a per-variable method (forward mode, symbolic, finite differences) may take in one run
    /// by default: beyond it, its row says how much it would take instead of running (forward mode over 2000
    /// variables of a 6000-node formula would evaluate 12 million nodes and trace every one of them).
    public static let defaultMaximumNodeEvaluations = 1_000_000

    /// Runs every method at `point`, timing each over repeated runs (at least `repeats`, or until about
    /// `budget` seconds have passed) and reporting the median. A per-variable method (one pass per variable)
    /// whose one run would evaluate more than `maximumNodeEvaluations` nodes (passes × operation nodes) is not
    /// run; its row says so.
    public init(
        formula: Formula, at point: [Double], repeats: Int = 5, budget: Double = 0.2,
        maximumNodeEvaluations: Int = MethodComparison.defaultMaximumNodeEvaluations
    ) {
        self.formula = formula
        self.point = point
        paths = formula.paths
        func timed<T>(_ body: () -> T) -> (T, Double) {
            var times: [Double] = []
            var result = body()
            let clock = ContinuousClock()
            let start = clock.now
            while times.count < repeats || (clock.now - start) < .seconds(budget) && times.count < 1000 {
                let t0 = clock.now
                result = body()
                let elapsed = clock.now - t0
                times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
                if (clock.now - start) > .seconds(budget * 10) { break }
            }
            return (result, times.sorted()[times.count / 2])
        }
        var rows: [MethodResult] = []
        let n = formula.variables.count
        let (reverse, reverseTime) = timed { formula.gradient(at: point) }
        let reverseCount = Trace(graph: formula.graph(at: point)).operationCount
        rows.append(MethodResult(method: "reverse mode", partials: reverse.gradient, work: "1 forward + 1 reverse pass", operations: reverseCount, seconds: reverseTime))

        /// Whether `passes` runs over the formula's operations stay within the budget (else the row's text).
        let nodes = Swift.max(formula.operationNodeCount, 1)
        func tooLarge(_ passes: Int, _ what: String) -> MethodResult? {
            let (evaluations, overflow) = passes.multipliedReportingOverflow(by: nodes)
            guard overflow || evaluations > maximumNodeEvaluations else { return nil }
            return MethodResult(
                method: what, partials: Array(repeating: nil, count: n),
                work: "\(passes) passes × \(nodes) operations > \(maximumNodeEvaluations)", operations: nil, seconds: .nan)
        }
        if let skipped = tooLarge(n, "forward mode") {
            rows.append(skipped)
        } else {
            let (forward, forwardTime) = timed { formula.forwardModeGradient(at: point) }
            let forwardCount = ForwardModeTrace(formula: formula, at: point).operationCount
            rows.append(MethodResult(method: "forward mode", partials: forward.gradient, work: "\(n) forward pass\(n == 1 ? "" : "es")", operations: forwardCount, seconds: forwardTime))
        }

        // Symbolic differentiation derives each partial over the whole graph: n passes too.
        if let skipped = tooLarge(n, "symbolic") {
            symbolicUsesBranches = false
            symbolicTreeSizes = []
            rows.append(skipped)
        } else {
            let values = Dictionary(uniqueKeysWithValues: zip(formula.variables, point))
            let symbolic = formula.symbolicDerivatives(at: point)
            symbolicUsesBranches = symbolic.usesBranchesAtPoint
            symbolicTreeSizes = symbolic.partials.map(\.treeSize)
            let (evaluated, symbolicTime) = timed { symbolic.partials.map { $0.evaluate(at: values) } }
            let symbolicOperations = evaluated.allSatisfy { $0 != nil } ? evaluated.reduce(0) { $0 + $1!.operations } : nil
            rows.append(MethodResult(
                method: "symbolic", partials: evaluated.map { $0?.value }, work: "\(n) expression\(n == 1 ? "" : "s") evaluated",
                operations: symbolicOperations, seconds: symbolicTime))
        }

        for scheme in FiniteDifferenceScheme.allCases {
            if let skipped = tooLarge(scheme == .central ? 2 * n : n + 1, "\(scheme.rawValue) difference") {
                rows.append(skipped)
                continue
            }
            let ((partials, evaluations), time) = timed { formula.finiteDifferenceGradient(at: point, scheme: scheme) }
            rows.append(MethodResult(
                method: "\(scheme.rawValue) difference", partials: partials, work: "\(evaluations) evaluations of f",
                operations: evaluations * formula.operationNodeCount, seconds: time))
        }
        self.rows = rows
    }

    /// The largest |partial − reverse mode's| of a row, nil when a partial is missing.
    public func largestError(_ row: MethodResult) -> Double? {
        let reference = rows[0].partials
        var largest = 0.0
        for (value, exact) in zip(row.partials, reference) {
            guard let value, let exact else { return nil }
            let error = Swift.abs(value - exact)
            if error.isNaN { return .nan }
            largest = Swift.max(largest, error)
        }
        return largest
    }

    /// The table and the graph's sizes, numbers with `digits` significant digits.
    public func render(digits: Int = 6) -> String {
        let showPartials = formula.variables.count <= 4
        var header = ["method"]
        if showPartials { header += formula.variables.map { "∂f/∂\($0)" } }
        header += ["largest error vs reverse", "passes / evaluations", "operations", "time"]
        var table = [header]
        for (k, row) in rows.enumerated() {
            var cells = [row.method]
            if showPartials { cells += row.partials.map { $0.map { formatSignificant($0, digits: digits) } ?? "—" } }
            let error = k == 0 ? "(reference)" : largestError(row).map { formatSignificant($0, digits: 2) } ?? "—"
            if row.seconds.isNaN {
                cells += ["—", row.work, "not run", "—"]
            } else if row.operations == nil, row.method == "symbolic" {
                // Too large to write out and run: say how large instead.
                let nodes = symbolicTreeSizes.dropFirst().reduce(symbolicTreeSizes.first ?? UnboundedCount(0), +)
                cells += [error, "\(nodes) nodes written out", "not run", "—"]
            } else {
                cells += [error, row.work, row.operations.map(String.init) ?? "—", formatDuration(row.seconds)]
            }
            table.append(cells)
        }
        let point = zip(formula.variables, point).map { "\($0) = \(formatShort($1))" }.joined(separator: ", ")
        var lines = ["Differentiation methods for f = \(abbreviated(formula.source))" + (point.isEmpty ? "" : " at \(point)"), "", renderTable(table), ""]
        lines.append("graph: \(paths.nodeCount) nodes, \(paths.edgeCount) edges; input-to-output paths (terms of the sum over paths of influence): \(paths.totalPaths)")
        let perVariable = zip(formula.variables, paths.pathsPerVariable).map { "\($0): \($1)" }.joined(separator: ", ")
        if !perVariable.isEmpty { lines.append("paths per input: \(perVariable)") }
        lines.append("reverse mode visits each of the \(paths.edgeCount) edges once per sweep; enumerating paths would visit \(paths.totalPaths) paths")
        lines.append("")
        lines.append("operations: primitives evaluated, plus for the two modes each local derivative, each product with a gradient or tangent, and each addition where values fan out, counted as the tables list them; symbolic: the derivative expressions evaluated as written out, repeats included.")
        if symbolicUsesBranches {
            lines.append("symbolic: max, min, relu and abs are differentiated on the branch they take at this point.")
        }
        return lines.joined(separator: "\n")
    }
}

/// A duration in the unit that suits it: `812 ns`, `14.2 µs`, `3.1 ms`, `1.25 s`.
func formatDuration(_ seconds: Double) -> String {
    if seconds < 1e-6 { return String(format: "%.0f ns", seconds * 1e9) }
    if seconds < 1e-3 { return String(format: "%.1f µs", seconds * 1e6) }
    if seconds < 1 { return String(format: "%.1f ms", seconds * 1e3) }
    return String(format: "%.2f s", seconds)
}

/// `text` cut to about `limit` characters with an ellipsis in the middle, for titles of long formulas.
func abbreviated(_ text: String, limit: Int = 100) -> String {
    guard text.count > limit else { return text }
    return String(text.prefix(limit * 2 / 3)) + " … " + String(text.suffix(limit / 3))
}
