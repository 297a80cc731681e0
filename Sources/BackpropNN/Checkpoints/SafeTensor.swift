/// One tensor as stored in a safetensors file: its element type, shape and raw little-endian bytes.
public struct SafeTensor: Sendable, Equatable {
    /// The element types of the safetensors format.
    public enum DType: String, Sendable, CaseIterable {
        /// 64-bit float.
        case float64 = "F64"
        /// 32-bit float.
        case float32 = "F32"
        /// IEEE half precision.
        case float16 = "F16"
        /// bfloat16 (the upper half of a 32-bit float).
        case bfloat16 = "BF16"
        /// Signed 64-bit integer.
        case int64 = "I64"
        /// Signed 32-bit integer.
        case int32 = "I32"
        /// Signed 16-bit integer.
        case int16 = "I16"
        /// Signed 8-bit integer.
        case int8 = "I8"
        /// Unsigned 64-bit integer.
        case uint64 = "U64"
        /// Unsigned 32-bit integer.
        case uint32 = "U32"
        /// Unsigned 16-bit integer.
        case uint16 = "U16"
        /// Unsigned 8-bit integer.
        case uint8 = "U8"
        /// Boolean, one byte.
        case bool = "BOOL"

        /// The size of one element in bytes.
        public var byteCount: Int {
            switch self {
            case .float64, .int64, .uint64: return 8
            case .float32, .int32, .uint32: return 4
            case .float16, .bfloat16, .int16, .uint16: return 2
            case .int8, .uint8, .bool: return 1
            }
        }
    }

    /// The element type.
    public let dtype: DType
    /// The dimensions (empty for a scalar).
    public let shape: [Int]
    /// The values, little-endian, row-major.
    public let bytes: [UInt8]

    /// The number of elements.
    public var scalarCount: Int { shape.reduce(1, *) }

    /// Creates a tensor entry from raw bytes.
    ///
    /// - Throws: `CheckpointError` if a dimension is negative or the byte count does not equal the
    ///   number of elements times the element size.
    public init(dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        guard let expected = Self.byteCount(dtype: dtype, shape: shape) else {
            throw CheckpointError("shape \(shape) of \(dtype.rawValue) is invalid (negative or overflowing size)")
        }
        guard expected == bytes.count else {
            throw CheckpointError("shape \(shape) of \(dtype.rawValue) needs \(expected) bytes, got \(bytes.count)")
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Stores a tensor: `F32` for `Float`, `F64` for `Double`.
    public init<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) {
        dtype = DType(rawValue: Scalar.dtypeName) ?? .float64
        shape = tensor.shape
        bytes = littleEndianBytes(tensor.scalars)
    }

    /// The bytes that `shape` of `dtype` occupies, or nil for a negative dimension or overflow.
    static func byteCount(dtype: DType, shape: [Int]) -> Int? {
        var count = dtype.byteCount
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// The values converted to `Scalar` (floats of any width, integers and booleans alike).
    public func tensor<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
        let width = dtype.byteCount
        let count = scalarCount
        var scalars = [Scalar]()
        scalars.reserveCapacity(count)
        bytes.withUnsafeBufferPointer { bytes in
            for index in 0..<count {
                var raw: UInt64 = 0
                for k in stride(from: width - 1, through: 0, by: -1) { raw = raw << 8 | UInt64(bytes[index * width + k]) }
                let shift = UInt64(64 - 8 * width)
                switch dtype {
                case .float64: scalars.append(Scalar(Double(bitPattern: raw)))
                case .float32: scalars.append(Scalar(Float(bitPattern: UInt32(truncatingIfNeeded: raw))))
                case .float16: scalars.append(Scalar(halfToFloat(UInt16(truncatingIfNeeded: raw))))
                case .bfloat16: scalars.append(Scalar(bfloat16ToFloat(UInt16(truncatingIfNeeded: raw))))
                case .int64, .int32, .int16, .int8: scalars.append(Scalar(Int64(bitPattern: raw << shift) >> Int64(shift)))
                case .uint64, .uint32, .uint16, .uint8, .bool: scalars.append(Scalar(raw))
                }
            }
        }
        return Tensor(shape: shape, scalars: scalars)
    }
}
