// Eigenvalues of a small symmetric matrix (a Hessian) by cyclic Jacobi rotations, and what they say about a
// stationary point: minimum, maximum or saddle.

import Foundation

/// The eigenvalues of the symmetric matrix `matrix` (rows of equal length), ascending.
///
/// Cyclic Jacobi: each rotation zeroes one off-diagonal pair; sweeps stop when the off-diagonal mass is
/// below 1e-30 of the total or after 100 sweeps. Only the upper triangle's average with the lower is used.
public func symmetricEigenvalues(_ matrix: [[Double]]) -> [Double] {
    let n = matrix.count
    var a = matrix
    for i in 0..<n { for j in 0..<n where j > i { let m = (a[i][j] + a[j][i]) / 2; a[i][j] = m; a[j][i] = m } }
    for _ in 0..<100 {
        var off = 0.0, total = 0.0
        for i in 0..<n { for j in 0..<n { total += a[i][j] * a[i][j]; if i != j { off += a[i][j] * a[i][j] } } }
        if off <= 1e-30 * total || off == 0 { break }
        for p in 0..<n {
            for q in (p + 1)..<max(p + 1, n) where a[p][q] != 0 {
                let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {
                    let akp = a[k][p], akq = a[k][q]
                    a[k][p] = c * akp - s * akq; a[k][q] = s * akp + c * akq
                }
                for k in 0..<n {
                    let apk = a[p][k], aqk = a[q][k]
                    a[p][k] = c * apk - s * aqk; a[q][k] = s * apk + c * aqk
                }
            }
        }
    }
    return (0..<n).map { a[$0][$0] }.sorted()
}

/// What a Hessian's eigenvalues say about a point where the gradient vanishes.
public enum StationaryPointKind: String, Sendable {
    /// All eigenvalues positive.
    case minimum
    /// All eigenvalues negative.
    case maximum
    /// Eigenvalues of both signs.
    case saddle
    /// Some eigenvalue is zero (within tolerance) and the rest share a sign: second order cannot tell.
    case inconclusive

    /// Classifies by the signs of `eigenvalues`, treating |λ| ≤ `tolerance`·max|λ| as zero.
    public init(eigenvalues: [Double], tolerance: Double = 1e-10) {
        let scale = eigenvalues.map { Swift.abs($0) }.max() ?? 0
        let positive = eigenvalues.contains { $0 > tolerance * scale }
        let negative = eigenvalues.contains { $0 < -tolerance * scale }
        let zero = eigenvalues.contains { Swift.abs($0) <= tolerance * scale }
        if positive && negative { self = .saddle } else if zero || eigenvalues.isEmpty { self = .inconclusive }
        else { self = positive ? .minimum : .maximum }
    }
}
