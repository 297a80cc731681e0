// A formula's Hessian from the engine (forward mode over reverse mode), and what it says about the point:
// its eigenvalues and, where the gradient vanishes, whether the point is a minimum, a maximum or a saddle.

import Backprop

/// The value, gradient and Hessian of a formula at a point, with the Hessian's eigenvalues.
public struct HessianAnalysis: Sendable {
    /// The variables, in the order of the gradient and the matrix.
    public let variables: [String]
    /// The point, one value per variable.
    public let point: [Double]
    /// f at the point.
    public let value: Double
    /// ∇f at the point, from the engine's reverse mode.
    public let gradient: [Double]
    /// ∂²f/∂xᵢ∂xⱼ, from the engine's `hessian(at:of:)`.
    public let matrix: [[Double]]
    /// The eigenvalues of the (symmetrised) Hessian, ascending; empty when an entry is not finite.
    public let eigenvalues: [Double]

    /// The same analysis with the variables in the order of `names` (names it lacks skipped, its variables
    /// that `names` lacks after them): the gradient and the matrix's rows and columns permuted alike.
    public func ordered(as names: [String]) -> HessianAnalysis {
        let order = names.compactMap { variables.firstIndex(of: $0) } + variables.indices.filter { !names.contains(variables[$0]) }
        return HessianAnalysis(
            variables: order.map { variables[$0] }, point: order.map { point[$0] }, value: value,
            gradient: order.map { gradient[$0] }, matrix: order.map { i in order.map { j in matrix[i][j] } },
            eigenvalues: eigenvalues)
    }

    /// ‖∇f‖.
    public var gradientNorm: Double { gradient.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// Whether the gradient is small enough to call the point stationary: ‖∇f‖ ≤ `tolerance` · max(1, |f|).
    public func isStationary(tolerance: Double = 1e-6) -> Bool {
        gradientNorm <= tolerance * Swift.max(1, Swift.abs(value))
    }

    /// The kind of point by the eigenvalues' signs (meaningful where `isStationary`), nil when an entry is
    /// not finite.
    public var kind: StationaryPointKind? { eigenvalues.isEmpty && !variables.isEmpty ? nil : StationaryPointKind(eigenvalues: eigenvalues) }

    /// What the Hessian says about the point, in a sentence or two.
    public func verdict(tolerance: Double = 1e-6) -> String {
        guard let kind else { return "the Hessian has entries that are not finite numbers: no verdict" }
        let norm = formatSignificant(gradientNorm, digits: 3)
        if isStationary(tolerance: tolerance) {
            switch kind {
            case .minimum: return "‖∇f‖ = \(norm): a stationary point, and every eigenvalue is positive: a local minimum"
            case .maximum: return "‖∇f‖ = \(norm): a stationary point, and every eigenvalue is negative: a local maximum"
            case .saddle: return "‖∇f‖ = \(norm): a stationary point with eigenvalues of both signs: a saddle point"
            case .inconclusive:
                return "‖∇f‖ = \(norm): a stationary point, but an eigenvalue is zero: second derivatives cannot tell minimum, maximum or saddle"
            }
        }
        let curvature: String
        switch kind {
        case .minimum: curvature = "positive definite (f curves up in every direction here)"
        case .maximum: curvature = "negative definite (f curves down in every direction here)"
        case .saddle: curvature = "indefinite (f curves up in some directions and down in others)"
        case .inconclusive: curvature = "singular (flat in some direction)"
        }
        return "‖∇f‖ = \(norm): not a stationary point, so neither a minimum nor a maximum; the Hessian is \(curvature)"
    }

    /// The matrix as a table, the eigenvalues and the verdict; matrices wider than `maximumColumns` are
    /// summarised (use JSON for them).
    public func render(digits: Int = 6, maximumColumns: Int = 20) -> String {
        func number(_ value: Double) -> String { formatSignificant(value, digits: digits) }
        let point = zip(variables, self.point).map { "\($0) = \(formatShort($1))" }.joined(separator: ", ")
        var lines = ["Hessian at \(point)", "", "f = \(number(value))"]
        lines.append("∇f = (" + gradient.map(number).joined(separator: ", ") + ")")
        lines.append("")
        if variables.count > maximumColumns {
            lines.append("the \(variables.count)×\(variables.count) matrix is too wide to print (more than \(maximumColumns) columns): use --json")
        } else {
            var rows = [[""] + variables.map { "∂/∂\($0)" }]
            for (i, name) in variables.enumerated() { rows.append(["∂/∂\(name)"] + matrix[i].map(number)) }
            lines.append(renderTable(rows))
        }
        lines.append("")
        if !eigenvalues.isEmpty { lines.append("eigenvalues: " + eigenvalues.map(number).joined(separator: ", ")) }
        lines.append(verdict())
        return lines.joined(separator: "\n")
    }

    /// One JSON object: variables, point, value, gradient, matrix, eigenvalues, gradient norm and the kind of
    /// point ("minimum", "maximum", "saddle", "inconclusive", or null when not stationary).
    public var json: String {
        func list(_ values: [Double]) -> String { "[" + values.map(jsonNumber).joined(separator: ", ") + "]" }
        let kindText = isStationary() ? (kind.map { jsonString($0.rawValue) } ?? "null") : "null"
        return "{\"variables\": [\(variables.map(jsonString).joined(separator: ", "))], \"point\": \(list(point)), "
            + "\"value\": \(jsonNumber(value)), \"gradient\": \(list(gradient)), "
            + "\"hessian\": [\(matrix.map(list).joined(separator: ", "))], \"eigenvalues\": \(list(eigenvalues)), "
            + "\"gradient_norm\": \(jsonNumber(gradientNorm)), \"stationary_point\": \(kindText)}"
    }
}

extension Formula {
    /// The value, gradient and Hessian at `point` (one value per variable), all from the engine.
    public func hessianAnalysis(at point: [Double]) -> HessianAnalysis {
        precondition(point.count == variables.count, "hessianAnalysis(at:): \(variables.count) values needed")
        let result = gradient(at: point)
        let inputs = point.map { Tensor<Double>($0) }
        let blocks = variables.isEmpty ? [] : hessian(at: inputs) { xs in engineValues(variables: xs, probes: nil).last! }
        let matrix = blocks.map { row in row.map(\.scalar) }
        let finite = matrix.allSatisfy { $0.allSatisfy(\.isFinite) }
        return HessianAnalysis(
            variables: variables, point: point, value: result.value, gradient: result.gradient, matrix: matrix,
            eigenvalues: finite ? symmetricEigenvalues(matrix) : [])
    }
}
