import BackpropNN
import Testing

/// Each optimizer against torch.optim on the same problem: p = (0.5, −1, 2), loss Σ p³ + Σ (1, 2, 3)·p,
/// three steps, float64. Reference values printed by PyTorch 2.15 (the script is in the test's comments).
///
///     p = torch.tensor([0.5, -1.0, 2.0], requires_grad=True); opt = make([p])
///     for t in range(3): opt.zero_grad(); ((p**3).sum() + (p*torch.tensor([1.,2.,3.])).sum()).backward(); opt.step()
struct OptimizerTests {
    func run(_ optimizer: some Optimizer<Double>) -> [Double] {
        var optimizer = optimizer
        var parameters = [Tensor<Double>([0.5, -1.0, 2.0])]
        let weights = Tensor<Double>([1, 2, 3])
        for _ in 0..<3 {
            let g = gradient(at: parameters) { p in (p[0] * p[0] * p[0]).sum() + (p[0] * weights).sum() }
            optimizer.update(&parameters, along: g)
        }
        #expect(optimizer.state.step == 3)
        return parameters[0].scalars
    }

    func expectClose(_ actual: [Double], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, sourceLocation: sourceLocation)
        for (a, e) in zip(actual, expected) {
            #expect(Swift.abs(a - e) <= 1e-12 * Swift.max(1, Swift.abs(e)), "\(actual) vs \(expected)", sourceLocation: sourceLocation)
        }
    }

    @Test func plainSGD() {
        expectClose(run(SGD(learningRate: 0.1)), [0.082101583203125, -4.2671875, -0.1796875])
    }

    @Test func momentumWithWeightDecay() {
        expectClose(
            run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)),
            [-0.326637211724479, -6.594318515846509, -3.534410298024193])
    }

    @Test func nesterov() {
        expectClose(
            run(SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)),
            [-0.604152435873725, -20.432181901956252, -10.420283770956253])
    }

    @Test func adam() {
        expectClose(run(Adam(learningRate: 0.1)), [0.202719460552553, -1.300489291159074, 1.70108736052564])
        expectClose(
            run(Adam(learningRate: 0.1, weightDecay: 0.1)), [0.202769204276063, -1.300488682658319, 1.70108058471801])
    }

    @Test func adamW() {
        expectClose(run(Adam.adamW(learningRate: 0.1, weightDecay: 0.1)), [0.19101529828141, -1.26780465813131, 1.644962969238673])
    }

    @Test func rmsProp() {
        expectClose(run(RMSProp(learningRate: 0.01)), [0.284544536521886, -1.238414926890998, 1.777796375949412])
    }

    @Test func schedules() {
        #expect(LearningRateSchedule.constant.learningRate(base: 0.1, epoch: 7) == 0.1)
        #expect(Swift.abs(LearningRateSchedule.step(epochs: 10, factor: 0.5).learningRate(base: 0.1, epoch: 25) - 0.025) < 1e-15)
        #expect(Swift.abs(LearningRateSchedule.exponential(factor: 0.9).learningRate(base: 1, epoch: 2) - 0.81) < 1e-15)
        let cosine = LearningRateSchedule.cosine(epochs: 10, minimum: 0)
        #expect(cosine.learningRate(base: 1, epoch: 0) == 1)
        #expect(Swift.abs(cosine.learningRate(base: 1, epoch: 5) - 0.5) < 1e-15)
        #expect(Swift.abs(cosine.learningRate(base: 1, epoch: 10)) < 1e-15)
        #expect(LearningRateSchedule(parsing: "step:5:0.5", totalEpochs: 30) == .step(epochs: 5, factor: 0.5))
        #expect(LearningRateSchedule(parsing: "cosine", totalEpochs: 30) == .cosine(epochs: 30, minimum: 0))
        #expect(LearningRateSchedule(parsing: "step:0:0.5", totalEpochs: 30) == nil)
        #expect(LearningRateSchedule(parsing: "wobbly", totalEpochs: 30) == nil)
    }

    @Test func clippingByGlobalNorm() {
        var gradients = [Tensor<Double>([3, 0]), Tensor<Double>([0, 4])]
        let norm = clipByGlobalNorm(&gradients, maxNorm: 1)
        #expect(norm == 5)
        #expect(Swift.abs(globalNorm(gradients) - 1) < 1e-6)
        #expect(Swift.abs(gradients[0].scalars[0] - 0.6) < 1e-6)
        var small = [Tensor<Double>([0.3, 0.4])]
        #expect(clipByGlobalNorm(&small, maxNorm: 1) == 0.5)
        #expect(small[0].scalars == [0.3, 0.4])
    }
}
