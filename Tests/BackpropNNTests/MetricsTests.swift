import Testing
@testable import BackpropNN

@Suite struct MetricsTests {
    @Test func accuracyAndArgmax() {
        #expect(accuracy(predictions: [0, 1, 2, 2], labels: [0, 1, 1, 2]) == 0.75)
        #expect(accuracy(predictions: [], labels: []) == 0)
        let logits = Tensor<Float>(shape: [3, 3], scalars: [0.1, 0.7, 0.2, 5, 5, 1, -3, -2, -1])
        #expect(predictedClasses(logits) == [1, 0, 2])
        let withNaN = Tensor<Double>(shape: [1, 3], scalars: [.nan, 1, 0])
        #expect(predictedClasses(withNaN) == [1])
    }

    @Test func confusionMatrixCountsAndRates() {
        let matrix = ConfusionMatrix(predictions: [0, 1, 1, 2, 0], labels: [0, 1, 2, 2, 1], classCount: 4)
        #expect(matrix.classCount == 4)
        #expect(matrix.counts[2] == [0, 1, 1, 0])
        #expect(matrix.counts[1] == [1, 1, 0, 0])
        #expect(matrix.total == 5)
        #expect(matrix.accuracy == 0.6)
        #expect(matrix.recall[2] == 0.5 && matrix.recall[3] == nil)
        #expect(matrix.precision[1] == 0.5 && matrix.precision[3] == nil)
        #expect(ConfusionMatrix(predictions: [3], labels: [0]).classCount == 4)
    }

    @Test func descriptionIsAnAlignedTable() {
        let matrix = ConfusionMatrix(predictions: [0, 1, 1, 0, 0], labels: [0, 1, 0, 0, 1])
        let expected = """
            true\\pred   0   1  recall precision
                    0   2   1     67%       67%
                    1   1   1     50%       50%
            """
        #expect(matrix.description == expected)
        let lines = matrix.description.split(separator: "\n")
        #expect(Set(lines.map(\.count)).count == 1)
    }
}
