import BackpropNN
import Foundation
import FuzzSupport

/// A small trained run's checkpoint (MLP 4-6-3, Adam, two epochs on 24 examples): the metadata and tensors
/// every input starts from.
nonisolated(unsafe) let base: (checkpoint: Checkpoint, data: Dataset<Float>) = {
    let features = Tensor<Float>(shape: [24, 4], scalars: (0..<96).map { Float(($0 * 7) % 11) / 5 - 1 })
    let data = Dataset(features: features, labels: (0..<24).map { $0 % 3 })
    var trainer = ClassifierTrainer<Float>(
        configuration: TrainingConfiguration(hiddenWidths: [6], epochs: 2, batchSize: 8), inputSize: 4, classCount: 3)
    _ = try? trainer.train(on: data)
    return (trainer.checkpoint(normalization: Normalization.standardizing(features)), data)
}()

/// libFuzzer's entry point: the input, as UTF-8 lines `key=value`, replaces entries of the base checkpoint's
/// metadata (a line `-key` removes one; `tensor:NAME=v1,v2,…` replaces a tensor's values). The checkpoint is
/// then resumed, trained for an epoch and evaluated, as `train --resume` and `evaluate` do. Errors are fine;
/// traps, and allocations beyond what the checkpoint holds, are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    var metadata = base.checkpoint.metadata
    var replaced: [String: [Float]] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(64) {
        if line.hasPrefix("-") { metadata[String(line.dropFirst())] = nil; continue }
        guard let equals = line.firstIndex(of: "=") else { continue }
        let key = String(line[..<equals]), value = String(line[line.index(after: equals)...])
        if key.hasPrefix("tensor:") {
            replaced[String(key.dropFirst("tensor:".count))] = value.split(separator: ",").compactMap { Float($0) }
        } else {
            metadata[key] = value
        }
    }
    var file = SafeTensorsFile(metadata: metadata)
    for name in base.checkpoint.names {
        guard let stored = base.checkpoint.file.tensors[name] else { continue }
        if let values = replaced[name] {
            let tensor = stored.tensor(as: Float.self)
            var scalars = tensor.scalars
            for (k, value) in values.prefix(scalars.count).enumerated() { scalars[k] = value }
            try? file.append(Tensor(shape: tensor.shape, scalars: scalars), named: name)
        } else {
            try? file.append(stored, named: name)
        }
    }
    // Through the bytes, as a file would come.
    guard let reread = try? SafeTensorsFile(bytes: file.serialized()) else { return 0 }
    let checkpoint = Checkpoint(file: reread)
    _ = try? checkpoint.normalization(as: Float.self)
    // One more epoch than recorded, as `train --resume --epochs N+1` asks (the recorded count bounded: the
    // trainer validates the total it is given, not the harness).
    let recorded = Swift.max(0, Swift.min(Int(metadata["epochs"] ?? "") ?? 0, 1000))
    guard var trainer = try? ClassifierTrainer<Float>(resumingFrom: checkpoint, epochs: recorded + 1) else { return 0 }
    // Only data the model takes: a checkpoint that passed its checks says how wide that is.
    guard trainer.inputSize == base.data.featureCount, trainer.classCount >= 3 else {
        _ = trainer.logits(Tensor<Float>.zeros(shape: [2, trainer.inputSize]))
        return 0
    }
    _ = try? trainer.trainEpoch(on: base.data, evaluatingOn: base.data)
    _ = trainer.evaluate(on: base.data)
    _ = trainer.checkpoint().file.serialized()
    return 0
}

/// The executable's entry point as SwiftPM names it: hands the command line to libFuzzer.
@_cdecl("FuzzCheckpoint_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
