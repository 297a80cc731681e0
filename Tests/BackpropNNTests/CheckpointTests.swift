import Foundation
import Testing
@testable import BackpropNN

@Suite struct CheckpointTests {
    @Test func loadsPyTorchStateDictAndReproducesItsLogits() throws {
        let checkpoint = try Checkpoint.load(from: fixture("pytorch_mlp.safetensors"))
        #expect(Set(checkpoint.names) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        var model = Sequential<Float>.multilayerPerceptron(widths: [64, 16, 10], seed: 123)
        try checkpoint.apply(to: &model)

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture("pytorch_mlp_logits.json"))) as? [String: Any]
        let expected = try #require(json?["logits"] as? [[Double]])
        let digits = try Dataset<Float>.digits()
        let logits = model(digits.subset(Array(0..<5)).features)
        #expect(logits.shape == [5, 10])
        for (row, expectedRow) in expected.enumerated() {
            for (column, value) in expectedRow.enumerated() {
                #expect(abs(Double(logits[index: row, column]) - value) < 1e-5)
            }
        }
        // The same parameters also load into a Double model.
        var doubleModel = Sequential<Double>.multilayerPerceptron(widths: [64, 16, 10], seed: 1)
        try checkpoint.apply(to: &doubleModel)
        #expect(abs(doubleModel(digits.subset([0]).features.converted(to: Double.self))[index: 0, 0] - expected[0][0]) < 1e-5)
    }

    @Test func savesModelOptimizerStateAndMetadataUnderPyTorchNames() throws {
        let model = Sequential<Float>.multilayerPerceptron(widths: [4, 8, 3], seed: 5)
        var checkpoint = Checkpoint(model: model, metadata: ["layers": "4,8,3", "activation": "relu", "epoch": "7"])
        try checkpoint.setTensor(Tensor<Float>.zeros(shape: [8, 4]), named: "optimizer.m.0.weight")
        let url = try temporaryDirectory().appendingPathComponent("run.safetensors")
        try checkpoint.save(to: url)
        if let keep = ProcessInfo.processInfo.environment["BACKPROPNN_KEEP_CHECKPOINT"] {
            try checkpoint.save(to: URL(fileURLWithPath: keep))
        }

        let loaded = try Checkpoint.load(from: url)
        #expect(loaded.names == ["0.weight", "0.bias", "2.weight", "2.bias", "optimizer.m.0.weight"])
        #expect(loaded.metadata["layers"] == "4,8,3" && loaded.metadata["epoch"] == "7")
        #expect(loaded.tensors(withPrefix: "optimizer.", as: Float.self).keys.sorted() == ["optimizer.m.0.weight"])
        var restored = Sequential<Float>.multilayerPerceptron(widths: [4, 8, 3], seed: 99)
        try loaded.apply(to: &restored)
        #expect(restored.parameters.map(\.scalars) == model.parameters.map(\.scalars))
    }

    @Test func applyNamesShapeMismatchesAndMissingParameters() throws {
        let checkpoint = Checkpoint(model: Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10], seed: 0))
        var narrower = Sequential<Float>.multilayerPerceptron(widths: [64, 32, 10], seed: 0)
        let before = narrower.parameters.map(\.scalars)
        #expect(throws: CheckpointError("checkpoint has 0.weight of shape [128, 64], model expects [32, 64]")) {
            try checkpoint.apply(to: &narrower)
        }
        #expect(narrower.parameters.map(\.scalars) == before)

        var deeper = Sequential<Float>.multilayerPerceptron(widths: [64, 128, 10, 10], seed: 0)
        do {
            try checkpoint.apply(to: &deeper)
            Issue.record("expected an error")
        } catch let error as CheckpointError {
            #expect(error.message.hasPrefix("checkpoint has no parameter 4.weight of shape [10, 10]"))
        }
    }

    @Test func loadingACorruptCheckpointThrows() throws {
        let url = try temporaryFile(named: "bad.safetensors", bytes: Array("not a checkpoint at all".utf8))
        #expect(throws: CheckpointError.self) { try Checkpoint.load(from: url) }
    }
}
