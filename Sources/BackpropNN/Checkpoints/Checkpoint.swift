import Foundation

/// A training checkpoint: model parameters, optional extra tensors (optimizer state, input
/// normalization) and string metadata, saved as one safetensors file.
///
/// Model parameters are stored under exactly the names `Module.parameterNames` gives (`0.weight`,
/// `0.bias`, …), the keys of PyTorch's `state_dict`, so a file written by
/// `safetensors.torch.save_file(model.state_dict(), path)` loads into the equivalent model and vice versa.
///
/// ```swift
/// var checkpoint = Checkpoint(model: model, metadata: ["layers": "64,128,10", "epoch": "3"])
/// try checkpoint.setTensor(adamMoment, named: "optimizer.m.0.weight")
/// try checkpoint.save(to: url)
/// try Checkpoint.load(from: url).apply(to: &model)
/// ```
public struct Checkpoint: Sendable {
    /// The stored tensors and metadata.
    public private(set) var file: SafeTensorsFile

    /// Creates an empty checkpoint.
    public init(metadata: [String: String] = [:]) {
        file = SafeTensorsFile(metadata: metadata)
    }

    /// Creates a checkpoint of a model's parameters and buffers (`num_batches_tracked` as PyTorch's 0-d int64).
    public init<M: Module>(model: M, metadata: [String: String] = [:]) {
        self.init(metadata: metadata)
        for (name, value) in model.namedParameters {
            // Layer parameter names are unique by construction; a duplicate keeps the first value.
            try? file.append(value, named: name)
        }
        for (name, value) in model.namedBuffers {
            if name.hasSuffix("num_batches_tracked"), value.scalarCount == 1 {
                // PyTorch keeps this counter as a 0-d int64 tensor; store it the same way.
                let count = Int64(value.scalars[0])
                let bytes = (0..<8).map { UInt8(truncatingIfNeeded: count >> (8 * $0)) }
                if let tensor = try? SafeTensor(dtype: .int64, shape: [], bytes: bytes) { try? file.append(tensor, named: name) }
            } else {
                try? file.append(value, named: name)
            }
        }
    }

    /// Wraps a safetensors file.
    public init(file: SafeTensorsFile) {
        self.file = file
    }

    /// The string metadata (architecture, epoch, step, hyper-parameters, …).
    public var metadata: [String: String] {
        get { file.metadata }
        set { file.metadata = newValue }
    }

    /// The names of all stored tensors, in file order.
    public var names: [String] { file.names }

    /// Stores a tensor under `name` (optimizer state, normalization, …).
    ///
    /// - Throws: `CheckpointError` if the name is already used.
    public mutating func setTensor<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, named name: String) throws {
        try file.append(tensor, named: name)
    }

    /// The tensor stored under `name`, converted to `Scalar`.
    ///
    /// - Throws: `CheckpointError` if there is none.
    public func tensor<Scalar: TensorScalar>(named name: String, as type: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
        try file.tensor(named: name, as: type)
    }

    /// Whether a tensor is stored under `name`.
    public func contains(_ name: String) -> Bool { file.tensors[name] != nil }

    /// All tensors whose names start with `prefix`, converted to `Scalar`, keyed by their full names.
    public func tensors<Scalar: TensorScalar>(withPrefix prefix: String, as type: Scalar.Type = Scalar.self) -> [String: Tensor<Scalar>] {
        var result: [String: Tensor<Scalar>] = [:]
        for name in file.names where name.hasPrefix(prefix) {
            result[name] = file.tensors[name]?.tensor(as: type)
        }
        return result
    }

    /// Stores an input normalization under `prefix` (`normalization.mean`/`normalization.std`, or
    /// `.min`/`.range`).
    ///
    /// - Throws: `CheckpointError` if the names are already used.
    public mutating func setNormalization<Scalar: TensorScalar>(_ normalization: Normalization<Scalar>, prefix: String = "normalization") throws {
        for (name, tensor) in normalization.namedTensors(prefix: prefix) { try setTensor(tensor, named: name) }
    }

    /// The input normalization stored under `prefix`, or nil if there is none.
    ///
    /// - Throws: `CheckpointError` if it is stored but malformed.
    public func normalization<Scalar: TensorScalar>(prefix: String = "normalization", as type: Scalar.Type = Scalar.self) throws
        -> Normalization<Scalar>?
    {
        try Normalization(namedTensors: tensors(withPrefix: prefix + ".", as: type), prefix: prefix)
    }

    /// Copies the stored parameters and buffers (BatchNorm's running statistics) into `model`, converting
    /// F32/F64/F16/BF16 (and the integer `num_batches_tracked`) to the model's scalar type.
    ///
    /// Tensors the model does not have (optimizer state, …) are ignored.
    ///
    /// - Throws: `CheckpointError` naming the first parameter that is missing, has the wrong shape (e.g.
    ///   "checkpoint has 0.weight of shape [128, 64], model expects [32, 64]") or holds a value that is not
    ///   finite as `M.Scalar`; the model is then left unchanged.
    public func apply<M: Module>(to model: inout M) throws {
        var values: [Tensor<M.Scalar>] = []
        for (name, current) in model.namedParameters {
            guard let stored = file.tensors[name] else {
                let available = file.names.prefix(10).joined(separator: ", ")
                throw CheckpointError("checkpoint has no parameter \(name) of shape \(current.shape) (it has: \(available)\(file.names.count > 10 ? ", …" : ""))")
            }
            guard stored.shape == current.shape else {
                throw CheckpointError("checkpoint has \(name) of shape \(stored.shape), model expects \(current.shape)")
            }
            values.append(try finiteTensor(stored, named: name, as: M.Scalar.self))
        }
        var buffers: [Tensor<M.Scalar>] = []
        for (name, current) in model.namedBuffers {
            guard let stored = file.tensors[name] else {
                throw CheckpointError("checkpoint has no buffer \(name) of shape \(current.shape)")
            }
            guard stored.shape == current.shape else {
                throw CheckpointError("checkpoint has \(name) of shape \(stored.shape), model expects \(current.shape)")
            }
            buffers.append(try finiteTensor(stored, named: name, as: M.Scalar.self))
        }
        model.parameters = values
        model.buffers = buffers
    }

    /// A stored tensor converted to `Scalar`, checked to hold finite values only (an F64 value of 1e39 is
    /// infinite as a Float).
    private func finiteTensor<Scalar: TensorScalar>(_ stored: SafeTensor, named name: String, as _: Scalar.Type) throws -> Tensor<Scalar> {
        let tensor = stored.tensor(as: Scalar.self)
        guard allFinite([tensor]) else {
            let index = tensor.scalars.firstIndex { !$0.isFinite } ?? 0
            throw CheckpointError("checkpoint's \(name) holds \(tensor.scalars[index]) at element \(index) (as \(scalarName(Scalar.self))); a model needs finite values")
        }
        return tensor
    }

    /// Saves the checkpoint atomically (temporary file, fsync, rename), so an interrupted save leaves
    /// the previous checkpoint intact.
    ///
    /// - Throws: `CheckpointError` if the file cannot be written.
    public func save(to url: URL) throws {
        try file.write(to: url)
    }

    /// Loads and validates a checkpoint.
    ///
    /// - Throws: `CheckpointError` for a missing, truncated or corrupt file.
    public static func load(from url: URL) throws -> Checkpoint {
        Checkpoint(file: try SafeTensorsFile.read(from: url))
    }
}

extension Checkpoint {
    /// Stores several named tensors (for example an optimizer's state), in order.
    ///
    /// - Throws: `CheckpointError` if a name is already used.
    public mutating func setTensors<Scalar: TensorScalar>(_ tensors: [(name: String, tensor: Tensor<Scalar>)]) throws {
        for (name, tensor) in tensors { try setTensor(tensor, named: name) }
    }

    /// The metadata value for `key` parsed as an integer (epoch, step), or nil if absent or not an integer.
    public func integerMetadata(_ key: String) -> Int? {
        metadata[key].flatMap { Int($0) }
    }
}
