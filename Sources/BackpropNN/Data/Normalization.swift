/// A per-feature affine rescaling fitted on training features, x ↦ (x − shift) / scale, that can be
/// stored in a checkpoint so that inference rescales inputs exactly as training did.
///
/// Standardization uses the mean and the standard deviation; min-max scaling uses the minimum and the
/// range. A feature with zero spread gets scale 1, so constant features map to 0 instead of NaN.
public struct Normalization<Scalar: TensorScalar>: Sendable, Equatable {
    /// The two fitted rescalings.
    public enum Kind: String, Sendable, CaseIterable {
        /// (x − mean) / standard deviation.
        case standardization
        /// (x − min) / (max − min), mapping the training range to [0, 1].
        case minMax
    }

    /// Which rescaling this is.
    public var kind: Kind
    /// The value subtracted from each feature (the mean or the minimum), length `featureCount`.
    public var shift: [Scalar]
    /// The value each shifted feature is divided by (the standard deviation or the range), never 0.
    public var scale: [Scalar]

    /// Creates a rescaling from its parameters.
    ///
    /// - Precondition: `shift` and `scale` have equal length and no scale is 0.
    public init(kind: Kind, shift: [Scalar], scale: [Scalar]) {
        precondition(shift.count == scale.count, "Normalization: \(shift.count) shifts but \(scale.count) scales")
        precondition(!scale.contains(0), "Normalization: a scale is 0")
        self.kind = kind
        self.shift = shift
        self.scale = scale
    }

    /// The number of features this rescaling applies to.
    public var featureCount: Int { shift.count }

    /// Fits standardization to features of shape `[n, d]`: per-feature mean and (population)
    /// standard deviation.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func standardizing(_ features: Tensor<Scalar>) -> Normalization {
        let (rows, columns, values) = matrix(features)
        var mean = [Double](repeating: 0, count: columns)
        var squares = [Double](repeating: 0, count: columns)
        for row in 0..<rows {
            for column in 0..<columns { mean[column] += Double(values[row * columns + column]) }
        }
        for column in 0..<columns { mean[column] /= Double(Swift.max(rows, 1)) }
        for row in 0..<rows {
            for column in 0..<columns {
                let deviation = Double(values[row * columns + column]) - mean[column]
                squares[column] += deviation * deviation
            }
        }
        let deviation = squares.map { ($0 / Double(Swift.max(rows, 1))).squareRoot() }
        return Normalization(
            kind: .standardization, shift: mean.map { Scalar($0) }, scale: deviation.map(nonZeroScale))
    }

    /// Fits min-max scaling to features of shape `[n, d]`: per-feature minimum and range.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func minMaxScaling(_ features: Tensor<Scalar>) -> Normalization {
        let (rows, columns, values) = matrix(features)
        var low = [Double](repeating: rows == 0 ? 0 : .infinity, count: columns)
        var high = [Double](repeating: rows == 0 ? 0 : -.infinity, count: columns)
        for row in 0..<rows {
            for column in 0..<columns {
                let value = Double(values[row * columns + column])
                low[column] = Swift.min(low[column], value)
                high[column] = Swift.max(high[column], value)
            }
        }
        return Normalization(
            kind: .minMax, shift: low.map { Scalar($0) }, scale: zip(low, high).map { nonZeroScale($1 - $0) })
    }

    /// Rescales features of shape `[n, featureCount]`.
    ///
    /// - Precondition: the features have `featureCount` columns.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func apply(_ features: Tensor<Scalar>) -> Tensor<Scalar> {
        let (rows, columns, values) = Self.matrix(features)
        precondition(columns == featureCount, "Normalization.apply: fitted on \(featureCount) features, got \(columns)")
        var result = values
        shift.withUnsafeBufferPointer { shift in
            scale.withUnsafeBufferPointer { scale in
                result.withUnsafeMutableBufferPointer { result in
                    for row in 0..<rows {
                        let base = row * columns
                        for column in 0..<columns { result[base + column] = (result[base + column] - shift[column]) / scale[column] }
                    }
                }
            }
        }
        return Tensor(shape: features.shape, scalars: result)
    }

    /// Rescales the features of a data set, keeping its labels and targets.
    public func apply(_ dataset: Dataset<Scalar>) -> Dataset<Scalar> {
        var copy = dataset
        copy.features = apply(dataset.features)
        return copy
    }

    /// The tensor names under `prefix`: `prefix.mean`/`prefix.std` for standardization,
    /// `prefix.min`/`prefix.range` for min-max scaling.
    public static func tensorNames(for kind: Kind, prefix: String = "normalization") -> (shift: String, scale: String) {
        switch kind {
        case .standardization: return ("\(prefix).mean", "\(prefix).std")
        case .minMax: return ("\(prefix).min", "\(prefix).range")
        }
    }

    /// The parameters as named rank-1 tensors, for a checkpoint (see `tensorNames(for:prefix:)`).
    public func namedTensors(prefix: String = "normalization") -> [(name: String, tensor: Tensor<Scalar>)] {
        let names = Self.tensorNames(for: kind, prefix: prefix)
        return [(names.shift, Tensor(shift)), (names.scale, Tensor(scale))]
    }

    /// Restores a rescaling from named tensors such as a checkpoint's, or returns nil if neither kind's
    /// pair of names is present.
    ///
    /// - Throws: `CheckpointError` if a pair is present but malformed (different lengths, not rank 1,
    ///   a zero scale).
    public init?(namedTensors: [String: Tensor<Scalar>], prefix: String = "normalization") throws {
        for kind in Kind.allCases {
            let names = Self.tensorNames(for: kind, prefix: prefix)
            guard let shift = namedTensors[names.shift], let scale = namedTensors[names.scale] else { continue }
            guard shift.rank == 1, scale.shape == shift.shape else {
                throw CheckpointError(
                    "\(names.shift) has shape \(shift.shape) and \(names.scale) has shape \(scale.shape); expected two equal [d]")
            }
            guard !scale.scalars.contains(where: { $0 == 0 || !$0.isFinite }), shift.scalars.allSatisfy(\.isFinite) else {
                throw CheckpointError("\(names.scale) contains 0 or a non-finite value")
            }
            self.init(kind: kind, shift: shift.scalars, scale: scale.scalars)
            return
        }
        return nil
    }

    private static func matrix(_ features: Tensor<Scalar>) -> (rows: Int, columns: Int, values: [Scalar]) {
        precondition(features.rank == 2, "Normalization: features must have shape [n, d], got \(features.shape)")
        return (features.shape[0], features.shape[1], features.scalars)
    }
}

/// A spread usable as a divisor: the value itself, or 1 where it is 0 or not finite.
private func nonZeroScale<Scalar: TensorScalar>(_ spread: Double) -> Scalar {
    spread > 0 && spread.isFinite ? Scalar(spread) : 1
}
