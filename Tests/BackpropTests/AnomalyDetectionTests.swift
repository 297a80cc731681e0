import Backprop
import Testing

/// Anomaly detection names the first primitive whose value or gradient is not finite.
@Suite struct AnomalyDetectionTests {
    @Test func namesTheFirstNonFiniteValue() {
        let x = Tensor<Double>([1, -1, 2])
        do {
            _ = try withAnomalyDetection {
                gradient(at: x) { x in (sqrt(x) * 2 + log(x)).sum() }
            }
            Issue.record("no anomaly reported")
        } catch let anomaly as AnomalyDetected {
            #expect(anomaly.primitive == "sqrt")
            #expect(anomaly.pass == "value")
            #expect(anomaly.inputShapes == [[3]])
            #expect(anomaly.scope.contains("AnomalyDetectionTests.swift"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func namesAGradientThatIsNotFinite() throws {
        // sqrt(0) is finite, its derivative 1/(2·0) is not.
        do {
            _ = try withAnomalyDetection { gradient(at: Tensor<Double>([0, 4])) { sqrt($0).sum() } }
            Issue.record("no anomaly reported")
        } catch let anomaly as AnomalyDetected {
            #expect(anomaly.primitive == "sqrt")
            #expect(anomaly.pass == "gradient for input 0")
        }
        // Scalar records too.
        do {
            _ = try withAnomalyDetection { gradient(at: Tensor<Double>(-1)) { log($0) * 2 } }
            Issue.record("no anomaly reported")
        } catch let anomaly as AnomalyDetected {
            #expect(anomaly.primitive == "log")
        }
        do {
            _ = try withAnomalyDetection { gradient(at: Tensor<Double>(0)) { sqrt($0) + 1 } }
            Issue.record("no anomaly reported")
        } catch let anomaly as AnomalyDetected {
            #expect(anomaly.primitive == "sqrt" && anomaly.pass == "gradient for input 0")
        }
    }

    @Test func quietWhenEverythingIsFinite() throws {
        let g = try withAnomalyDetection { gradient(at: Tensor<Double>([1, 2])) { ($0 * $0).sum() } }
        #expect(g.scalars == [2, 4])
        // And off again afterwards: NaNs pass silently, as without the mode.
        #expect(gradient(at: Tensor<Double>(-1)) { log($0) }.scalar == -1)
    }
}
