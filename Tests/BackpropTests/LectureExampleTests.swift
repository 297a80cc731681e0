import Backprop
import Testing

/// The lectures' worked examples, through the public API, in float64.
@Suite struct LectureExampleTests {
    @Test func lecture004ChainOfPrimitives() {
        // f(x,y,z) = z + sin(x² + y·exp(z)) at (2, −1, 0)
        let (value, g) = valueWithGradient(at: Tensor<Double>(2), Tensor(-1), Tensor(0)) { x, y, z in
            z + sin(x * x + y * exp(z))
        }
        #expect(value.scalar == 0.14112000805986721)
        #expect(Swift.abs(g.0.scalar - -3.9599699864017817) < 1e-15)
        #expect(Swift.abs(g.1.scalar - -0.9899924966004454) < 1e-15)
        #expect(Swift.abs(g.2.scalar - 1.9899924966004454) < 1e-15)
    }
}
