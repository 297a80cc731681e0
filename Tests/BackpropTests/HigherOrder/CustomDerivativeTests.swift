import Backprop
import Testing

/// User-supplied derivative rules and checkpointed segments, under every transform.
@Suite struct CustomDerivativeTests {
    /// x³ as a custom primitive whose rules are written with tensor operations.
    func cube(_ x: Tensor<Double>, withJVP: Bool) -> Tensor<Double> {
        customPrimitive(
            named: "cube", at: x, value: { $0 * $0 * $0 },
            vjp: { x, _, g in g * 3 * x * x },
            jvp: withJVP ? { x, _, t in t * 3 * x * x } : nil)
    }

    @Test func customPrimitiveWorksUnderEveryTransform() {
        let x = Tensor<Double>([0.5, -1.5])
        for withJVP in [true, false] {
            #expect(gradient(at: x) { cube($0, withJVP: withJVP).sum() }.scalars == [0.75, 6.75])
            #expect(jvp(at: x, along: Tensor([1, 2])) { cube($0, withJVP: withJVP) }.scalars == [0.75, 13.5])
            let h = hessian(at: x) { cube($0, withJVP: withJVP).sum() }
            #expect(h.scalars == [3, 0, 0, -9])
            // Third order: d³(x³)/dx³ = 6.
            let third = gradient(at: Tensor<Double>(0.3)) { x in
                gradient(at: x) { x in gradient(at: x) { cube($0, withJVP: withJVP) } }
            }
            #expect(third.scalar == 6)
        }
    }

    @Test func straightThroughEstimatorAndOpaqueValue() {
        // Rounding has no useful derivative; the estimator passes the gradient through.
        let x = Tensor<Double>([0.4, 1.6])
        let g = gradient(at: x) { x in
            customPrimitive(
                named: "round", at: x, value: { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0.rounded() }) },
                vjp: { _, _, g in g }, jvp: { _, _, t in t }
            ).squared().sum()
        }
        #expect(g.scalars == [0, 4])
    }

    @Test func checkpointedSegmentsGiveTheSameDerivatives() {
        let x = Tensor<Double>.randomUniform(shape: [2, 3], lowerBound: -1, upperBound: 1, seed: 1)
        let w = Tensor<Double>.randomUniform(shape: [3, 3], lowerBound: -1, upperBound: 1, seed: 2)
        func block(_ t: [Tensor<Double>]) -> Tensor<Double> { tanh(matmul(t[0], t[1])) * t[0] }
        let plain: ([Tensor<Double>]) -> Tensor<Double> = { v in block([block([v[0], v[1]]), v[1]]).sum() }
        let saving: ([Tensor<Double>]) -> Tensor<Double> = { v in
            let h = checkpointed([v[0], v[1]], block)
            return checkpointed([h, v[1]], block).sum()
        }
        let (value, gradients) = valueWithGradient(at: [x, w], of: plain)
        let (checkedValue, checkedGradients) = valueWithGradient(at: [x, w], of: saving)
        #expect(value == checkedValue)
        #expect(largestError(gradients, checkedGradients) < 1e-14)
        let v = [Tensor<Double>.ones(shape: [2, 3]), Tensor<Double>.ones(shape: [3, 3])]
        #expect(largestError([jvp(at: [x, w], along: v, of: plain)], [jvp(at: [x, w], along: v, of: saving)]) < 1e-14)
        #expect(largestError(hessianVectorProduct(at: [x, w], along: v, of: plain),
                             hessianVectorProduct(at: [x, w], along: v, of: saving)) < 1e-13)
    }
}
