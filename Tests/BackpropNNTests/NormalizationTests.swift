import Testing
@testable import BackpropNN

@Suite struct NormalizationTests {
    private let features = Tensor<Double>(shape: [4, 3], scalars: [1, 10, 5, 2, 20, 5, 3, 30, 5, 4, 40, 5])

    @Test func standardizationGivesZeroMeanUnitDeviation() {
        let normalization = Normalization.standardizing(features)
        #expect(normalization.kind == .standardization)
        #expect(normalization.shift == [2.5, 25, 5])
        #expect(normalization.scale[2] == 1)  // constant feature: no division by zero
        let scaled = normalization.apply(features).scalars
        for column in 0..<2 {
            let values = (0..<4).map { scaled[$0 * 3 + column] }
            #expect(abs(values.reduce(0, +)) < 1e-12)
            let variance: Double = values.map { $0 * $0 }.reduce(0, +) / 4
            #expect(abs(variance - 1) < 1e-12)
        }
        #expect((0..<4).allSatisfy { scaled[$0 * 3 + 2] == 0 })
    }

    @Test func minMaxMapsTrainingRangeToUnitInterval() {
        let normalization = Normalization.minMaxScaling(features)
        let scaled = normalization.apply(features).scalars
        #expect(scaled[0] == 0 && scaled[9] == 1 && scaled[1] == 0 && scaled[10] == 1)
    }

    @Test func roundTripsThroughNamedTensorsAndCheckpoints() throws {
        for normalization in [Normalization.standardizing(features), .minMaxScaling(features)] {
            let named = Dictionary(uniqueKeysWithValues: normalization.namedTensors().map { ($0.name, $0.tensor) })
            #expect(try Normalization(namedTensors: named) == normalization)
            var checkpoint = Checkpoint()
            try checkpoint.setNormalization(normalization)
            let url = try temporaryDirectory().appendingPathComponent("n.safetensors")
            try checkpoint.save(to: url)
            #expect(try Checkpoint.load(from: url).normalization(as: Double.self) == normalization)
        }
        #expect(Set(Normalization<Double>.standardizing(features).namedTensors().map(\.name)) == ["normalization.mean", "normalization.std"])
        #expect(try Normalization<Double>(namedTensors: [:]) == nil)
        #expect(throws: CheckpointError.self) {
            try Normalization<Double>(namedTensors: ["normalization.mean": Tensor([1, 2]), "normalization.std": Tensor([1, 0])])
        }
    }
}
