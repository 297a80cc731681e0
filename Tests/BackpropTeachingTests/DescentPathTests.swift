import Testing

@testable import BackpropTeaching

/// Issue #24: `minimize --steps 1000000000000` kept every point it visited; the path is now thinned evenly
/// beyond a bound, its start and its last point always kept.
@Suite struct DescentPathTests {
    @Test func aLongDescentKeepsABoundedEvenlySpacedPath() throws {
        let formula = try Formula(parsing: "(x - 3)^2 + (y + 1)^2")
        var descent = GradientDescent(learningRate: 1e-4, steps: 20_001)
        descent.maximumPathCount = 100
        let thinned = descent.minimize(formula, from: [0, 0])
        descent.maximumPathCount = 200_000
        let whole = descent.minimize(formula, from: [0, 0])
        #expect(whole.path.count == 20_002 && whole.stepCount == 20_001)
        #expect(thinned.stepCount == 20_001)
        #expect(thinned.path.count <= 101 && thinned.path.count == thinned.values.count)
        #expect(thinned.path.first == [0, 0] && thinned.point == whole.point && thinned.value == whole.value)
        // Every point kept is the one of a step that is a multiple of the final stride: evenly spaced.
        // Capacity 100: the stride doubles each time 100 points are kept, at step 99·s; 99·256 > 20_001.
        let stride = 256
        #expect(thinned.path.count - 1 == 20_001 / stride + 1)
        for (k, point) in thinned.path.dropLast().enumerated() { #expect(point == whole.path[k * stride]) }
        // Newton's method keeps its path the same way.
        var newton = NewtonMethod(steps: 50, tolerance: 0)
        newton.maximumPathCount = 10
        let result = newton.minimize(try Formula(parsing: "x^4 + y^4"), from: [1, 1])  // never exactly converged
        #expect(result.path.count <= 11 && result.stepCount == 50 && result.path.first == [1, 1])
    }

    @Test func theRecorderKeepsEveryPointUpToItsCapacity() {
        var path = DescentPath(capacity: 8)
        for k in 0..<7 { path.record([Double(k)], value: Double(k)) }
        #expect(path.finished.points == (0..<7).map { [Double($0)] })
        path.record([7], value: 7)  // the eighth: halved to 0, 2, 4, 6 and the last, 7
        #expect(path.finished.points == [[0], [2], [4], [6], [7]])
        path.record([8], value: 8)
        path.record([9], value: 9)
        #expect(path.finished.points == [[0], [2], [4], [6], [8], [9]])
        #expect(path.finished.values == [0, 2, 4, 6, 8, 9])
    }
}
