import Backprop
import BackpropNN
import Foundation
import Testing

/// Checkpoints written by `backprop train` before models found their own parameters (Fixtures/legacy,
/// README there) load, evaluate and resume exactly as the build that wrote them did.
@Suite struct CheckpointCompatibilityTests {
    /// The held-out 20% of the digits as the checkpoint's run saw it (split, then normalised).
    private func heldOut(_ checkpoint: Checkpoint) throws -> (train: Dataset<Float>, test: Dataset<Float>) {
        let (train, test) = try Dataset<Float>.digits().split(testFraction: 0.2, seed: 0)
        let normalization = try #require(try checkpoint.normalization(as: Float.self))
        return (normalization.apply(train), normalization.apply(test))
    }

    @Test(arguments: [
        ("digits-mlp-16", 0.5933147632311978, 1.40157151222229, 1.214136547936186, 0.7019498607242339),
        ("digits-cnn-bn", 0.48467966573816157, 1.740821123123169, 1.5580290817915978, 0.5487465181058496),
    ])
    func legacyCheckpointEvaluatesAndResumesAsItsBuildDid(
        name: String, accuracy: Double, loss: Double, resumedTrainLoss: Double, resumedAccuracy: Double
    ) throws {
        let checkpoint = try Checkpoint.load(from: fixture("legacy/\(name).safetensors"))
        let (train, test) = try heldOut(checkpoint)
        var trainer = try ClassifierTrainer<Float>(resumingFrom: checkpoint)
        #expect(Set(checkpoint.names).isSuperset(of: trainer.model.parameterNames + trainer.model.bufferNames))
        let evaluation = trainer.evaluate(on: test)
        #expect(abs(evaluation.accuracy - accuracy) < 1e-9)
        #expect(abs(evaluation.loss - loss) < 1e-5)

        trainer = try ClassifierTrainer<Float>(resumingFrom: checkpoint, epochs: trainer.completedEpochs + 1)
        let record = try trainer.trainEpoch(on: train, evaluatingOn: test)
        #expect(abs(record.trainLoss - resumedTrainLoss) < 1e-5)
        #expect(abs((record.testAccuracy ?? 0) - resumedAccuracy) < 1e-9)
    }
}
