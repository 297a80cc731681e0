import Testing
@testable import BackpropTeaching

@Test("Jacobi eigenvalues match closed forms")
func jacobiEigenvalues() {
    // Rosenbrock's Hessian at its minimum (1, 1): [[802, −400], [−400, 200]], λ = 501 ± √(301² + 400²).
    let root = (301.0 * 301 + 400 * 400).squareRoot()
    let rosenbrock = symmetricEigenvalues([[802, -400], [-400, 200]])
    #expect(Swift.abs(rosenbrock[0] - (501 - root)) < 1e-9)
    #expect(Swift.abs(rosenbrock[1] - (501 + root)) < 1e-9)
    // Tridiagonal 2, −1: λₖ = 2 − 2cos(kπ/4), k = 1…3.
    let tri = symmetricEigenvalues([[2, -1, 0], [-1, 2, -1], [0, -1, 2]])
    #expect(zip(tri, [2 - 2.0.squareRoot(), 2, 2 + 2.0.squareRoot()]).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
}

@Test("stationary points are classified by eigenvalue signs")
func stationaryPointKinds() {
    #expect(StationaryPointKind(eigenvalues: [1, 3]) == .minimum)
    #expect(StationaryPointKind(eigenvalues: [-1, -3]) == .maximum)
    #expect(StationaryPointKind(eigenvalues: [-1, 3]) == .saddle)
    #expect(StationaryPointKind(eigenvalues: [0, 3]) == .inconclusive)
}
