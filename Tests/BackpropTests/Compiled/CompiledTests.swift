import Backprop
import Testing

/// The same values in reverse order: other inputs with the same distribution (so a case's domain holds),
/// where the positions of maxima move.
func reversedValues(_ t: Tensor<Double>) -> Tensor<Double> {
    Tensor(shape: t.shape, scalars: t.scalars.reversed())
}

/// `compiled` against eager evaluation on every primitive of the table: the first call (the trace) and a
/// replay at other inputs give the eager values, and gradients taken inside or outside the compiled function
/// give the eager gradients, to 1e-12 in float64.
@Suite struct CompiledPrimitiveTests {
    @Test(arguments: primitiveCases)
    func valuesEqualEagerOnTheTraceAndOnAReplay(_ c: PrimitiveCase) {
        let f = compiled { (xs: [Tensor<Double>]) -> [Tensor<Double>] in [c.f(xs)] }
        let first = f(c.inputs)[0]
        #expect(largestError([first], [c.f(c.inputs)]) <= 1e-12, "\(c.name): trace")
        let other = c.inputs.map(reversedValues)
        let replayed = f(other)[0]
        #expect(largestError([replayed], [c.f(other)]) <= 1e-12, "\(c.name): replay")
    }

    @Test(arguments: primitiveCases)
    func gradientsInsideEqualEager(_ c: PrimitiveCase) {
        let u = uniform(withoutRecording { c.f(c.inputs) }.shape, -1, 1, seed: 400)
        let loss: ([Tensor<Double>]) -> Tensor<Double> = { (c.f($0) * u).sum() }
        let step = compiled { (xs: [Tensor<Double>]) -> [Tensor<Double>] in
            let (value, gradient) = valueWithGradient(at: xs, of: loss)
            return [value] + gradient
        }
        for inputs in [c.inputs, c.inputs.map(reversedValues)] {
            let (value, gradient) = valueWithGradient(at: inputs, of: loss)
            #expect(largestError(step(inputs), [value] + gradient) <= 1e-12, "\(c.name)")
        }
    }

    @Test(arguments: primitiveCases)
    func transformsOfACompiledFunctionEqualEager(_ c: PrimitiveCase) {
        let u = uniform(withoutRecording { c.f(c.inputs) }.shape, -1, 1, seed: 400)
        let loss: ([Tensor<Double>]) -> Tensor<Double> = { (c.f($0) * u).sum() }
        let f = compiled { (xs: [Tensor<Double>]) -> [Tensor<Double>] in [loss(xs)] }
        let compiledLoss: ([Tensor<Double>]) -> Tensor<Double> = { f($0)[0] }
        let v = directions(like: c.inputs, seed: 500)
        for inputs in [c.inputs, c.inputs.map(reversedValues)] {
            #expect(largestError(gradient(at: inputs, of: compiledLoss), gradient(at: inputs, of: loss)) <= 1e-12, "\(c.name): gradient")
            #expect(
                largestError([jvp(at: inputs, along: v, of: compiledLoss)], [jvp(at: inputs, along: v, of: loss)]) <= 1e-12,
                "\(c.name): jvp")
            #expect(
                largestError(
                    hessianVectorProduct(at: inputs, along: v, of: compiledLoss),
                    hessianVectorProduct(at: inputs, along: v, of: loss)) <= 1e-11,
                "\(c.name): hvp")
        }
    }
}

/// `compiled` on random compositions of the primitives (the generator of the Jacobian property tests):
/// values and gradients at the traced inputs and at other inputs equal eager evaluation.
@Suite struct CompiledRandomProgramTests {
    @Test(arguments: 0..<120)
    func compiledEqualsEager(_ seed: Int) {
        let program = RandomProgram(seed: UInt64(seed))
        let value = compiled { (xs: [Tensor<Double>]) -> [Tensor<Double>] in [program.run(xs)] }
        let step = compiled { (xs: [Tensor<Double>]) -> [Tensor<Double>] in
            let (y, g) = valueWithGradient(at: xs) { program.run($0).sum() }
            return [y] + g
        }
        for inputs in [program.inputs, program.inputs.map(reversedValues)] {
            let eager = withoutRecording { program.run(inputs) }
            #expect(largestError(value(inputs), [eager]) <= 1e-12, "\(program)")
            let (y, g) = valueWithGradient(at: inputs) { program.run($0).sum() }
            #expect(largestError(step(inputs), [y] + g) <= 1e-12, "\(program)")
        }
    }
}
