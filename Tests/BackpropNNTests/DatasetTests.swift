import Foundation
import Testing
@testable import BackpropNN

@Suite struct DatasetTests {
    @Test func digitsLoadsWithScaledFeatures() throws {
        let digits = try Dataset<Float>.digits()
        #expect(digits.count == 1797)
        #expect(digits.featureCount == 64)
        #expect(digits.classCount == 10)
        #expect(digits.labels.prefix(5) == [0, 1, 2, 3, 4])
        let values = digits.features.scalars
        #expect(values.min() == 0 && values.max() == 1)
        // First row, third pixel is 5 in the file.
        #expect(values[2] == 5.0 / 16)
        #expect(digits.labelValues == nil)
    }

    @Test func subsetCopiesRowsLabelsAndTargets() {
        let data = Dataset<Double>(
            features: Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]), labels: [0, 1, 2],
            targets: Tensor(shape: [3, 1], scalars: [10, 20, 30]))
        let picked = data.subset([2, 0, 2])
        #expect(picked.features.scalars == [5, 6, 1, 2, 5, 6])
        #expect(picked.labels == [2, 0, 2])
        #expect(picked.targets?.scalars == [30, 10, 30])
        #expect(data.subset([]).count == 0)
    }

    @Test func splitIsDeterministicDisjointAndComplete() {
        let n = 50
        let data = Dataset<Float>(
            features: Tensor(shape: [n, 1], scalars: (0..<n).map(Float.init)), labels: (0..<n).map { $0 % 3 })
        let (train, test) = data.split(testFraction: 0.2, seed: 42)
        #expect(train.count == 40 && test.count == 10)
        let all = (train.features.scalars + test.features.scalars).map(Int.init).sorted()
        #expect(all == Array(0..<n))
        let again = data.split(testFraction: 0.2, seed: 42)
        #expect(again.test.features.scalars == test.features.scalars)
        #expect(data.split(testFraction: 0.2, seed: 43).test.features.scalars != test.features.scalars)
    }

    @Test func seededPermutationIsPinned() {
        // Pinned values: the shuffle must not change across machines or releases, or saved splits and
        // resumed runs would silently differ.
        #expect(seededPermutation(count: 10, seed: 42) == pinnedPermutation)
        #expect(seededPermutation(count: 0, seed: 1) == [])
        #expect(seededPermutation(count: 1, seed: 1) == [0])
    }
}

// Computed independently by a Python transcription of xoshiro256** + SplitMix64 + Lemire + Fisher–Yates.
private let pinnedPermutation = [9, 1, 4, 2, 8, 7, 6, 5, 3, 0]
