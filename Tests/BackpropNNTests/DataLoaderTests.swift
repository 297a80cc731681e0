import Testing
@testable import BackpropNN

@Suite struct DataLoaderTests {
    private let data = Dataset<Float>(
        features: Tensor(shape: [10, 2], scalars: (0..<20).map(Float.init)), labels: Array(0..<10),
        targets: Tensor(shape: [10, 1], scalars: (0..<10).map { Float($0) * 10 }))

    @Test func batchesCoverEveryExampleOncePerEpoch() {
        let loader = DataLoader(dataset: data, batchSize: 4, shuffles: true, seed: 3)
        let batches = Array(loader.batches(epoch: 0))
        #expect(batches.map(\.labels.count) == [4, 4, 2])
        #expect(loader.batchCount == 3)
        #expect(batches.flatMap(\.labels).sorted() == Array(0..<10))
        // Rows, labels and targets stay together.
        for batch in batches {
            #expect(batch.features.shape == [batch.labels.count, 2])
            for (row, label) in batch.labels.enumerated() {
                #expect(batch.features.scalars[2 * row] == Float(2 * label))
                #expect(batch.targets?.scalars[row] == Float(label * 10))
            }
        }
    }

    @Test func ordersAreReproduciblePerEpochAndDifferAcrossEpochs() {
        let loader = DataLoader(dataset: data, batchSize: 3, shuffles: true, seed: 9)
        let first = loader.batches(epoch: 2).flatMap(\.labels)
        let resumed = DataLoader(dataset: data, batchSize: 3, shuffles: true, seed: 9).batches(epoch: 2).flatMap(\.labels)
        #expect(first == resumed)
        #expect(loader.order(epoch: 2) == first)
        #expect(loader.order(epoch: 3) != first)
        var atEpoch = loader
        atEpoch.epoch = 2
        #expect(atEpoch.flatMap(\.labels) == first)
    }

    @Test func sequentialOrderAndDropLast() {
        let loader = DataLoader(dataset: data, batchSize: 4, shuffles: false, dropsLast: true)
        let batches = Array(loader)
        #expect(batches.count == 2 && loader.batchCount == 2)
        #expect(batches.flatMap(\.labels) == Array(0..<8))
        let single = DataLoader(dataset: data, batchSize: 100, shuffles: false)
        #expect(Array(single).count == 1)
        #expect(Array(DataLoader(dataset: data, batchSize: 100, shuffles: false, dropsLast: true)).isEmpty)
    }
}
