@testable import Backprop
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

    @Test func theSiteSkipsFoundationTheLibraryAndUnnamedFrames() {
        // As Foundation's Thread.callStackSymbols gives them on Linux (glibc's backtrace_symbols).
        let frames = [
            "/opt/swift/usr/lib/swift/linux/libFoundation.so($s10Foundation6ThreadC16callStackSymbolsSaySSGvgZ+0x2e) [0x7f0f]",
            "/app/train($s8Backprop16AnomalyDetectionO8callSiteSSSgyFZ+0x1c) [0x5591]",
            "/app/train(+0x133e) [0x5592]",
            "/app/train($s5train4mainyyF+0x20) [0x5593]",
            "/lib/x86_64-linux-gnu/libc.so.6(__libc_start_main+0x85) [0x7f0e]",
        ]
        #expect(AnomalyDetection.callSite(frames: frames) == "/app/train($s5train4mainyyF+0x20) [0x5593]")
        #expect(AnomalyDetection.callSite(frames: Array(frames.prefix(3))) == nil)
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
