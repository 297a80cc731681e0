import Testing
@testable import BackpropTeaching

@Test("finite differences approach the engine's gradient on lecture 004's example, central closer")
func finiteDifferencesOnLecture004() throws {
    let formula = try Formula(parsing: "x + sin(x^2 + y*exp(z))")
    let point = [1.0, 0.5, -0.3]
    let exact = formula.gradient(at: point).gradient
    let forward = formula.finiteDifferenceGradient(at: point, scheme: .forward)
    let central = formula.finiteDifferenceGradient(at: point, scheme: .central)
    #expect(forward.evaluations == 4)
    #expect(central.evaluations == 6)
    let forwardError = zip(forward.partials, exact).map { Swift.abs($0 - $1) }.max()!
    let centralError = zip(central.partials, exact).map { Swift.abs($0 - $1) }.max()!
    #expect(forwardError < 1e-6)
    #expect(centralError < 1e-9)
}
