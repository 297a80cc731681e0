import Foundation

/// An n-dimensional array in the IDX format of the MNIST files: the magic bytes 0 0 type rank,
/// big-endian 32-bit dimensions, then the values big-endian in row-major order.
///
/// Gzip-compressed files (`.gz`) are recognised by their magic number and decompressed first.
public struct IDXArray: Sendable {
    /// The element types of IDX files, by their type byte.
    public enum ElementType: UInt8, Sendable {
        /// Unsigned 8-bit integers.
        case uint8 = 0x08
        /// Signed 8-bit integers.
        case int8 = 0x09
        /// Signed 16-bit integers.
        case int16 = 0x0B
        /// Signed 32-bit integers.
        case int32 = 0x0C
        /// 32-bit floats.
        case float32 = 0x0D
        /// 64-bit floats.
        case float64 = 0x0E

        /// The size of one element in bytes.
        public var byteCount: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16: return 2
            case .int32, .float32: return 4
            case .float64: return 8
            }
        }
    }

    /// The element type.
    public let elementType: ElementType
    /// The dimensions.
    public let shape: [Int]
    /// The raw big-endian values.
    private let payload: [UInt8]

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Parses IDX data, decompressing it first if it is gzip data.
    ///
    /// Compressed data is decompressed in two steps, so that memory stays bounded by what the header
    /// declares whatever the stream holds: first just the header, then the rest with the header's size as
    /// the limit (a stream that inflates past it stops there with an error).
    ///
    /// - Throws: `DataError` for a bad magic number, unknown type, or a size that does not match the dimensions.
    public init(bytes input: [UInt8]) throws {
        let bytes: [UInt8]
        if Gzip.isCompressed(input) {
            // The longest header: 4 bytes of magic number and 255 dimensions of 4 bytes.
            let head = try IDXArray.header(of: try Gzip.decompressedPrefix(input, count: 4 + 4 * 255), complete: false)
            do {
                bytes = try Gzip.decompress(input, maximumOutputCount: head.headerCount + head.dataCount)
            } catch let error as DataError where error.message.contains("output exceeds") {
                throw DataError(
                    .corrupt,
                    "IDX size mismatch: the header declares shape \(head.shape) of \(head.type) (\(head.headerCount + head.dataCount) bytes), "
                        + "the compressed data holds more; decompression stopped there")
            }
        } else {
            bytes = input
        }
        let head = try IDXArray.header(of: bytes, complete: true)
        elementType = head.type
        shape = head.shape
        payload = Array(bytes[head.headerCount...])
    }

    /// Reads the header at the start of `bytes`; with `complete`, also checks that the data that follows has
    /// exactly the size the header declares.
    private static func header(of bytes: [UInt8], complete: Bool) throws -> (type: ElementType, shape: [Int], headerCount: Int, dataCount: Int) {
        guard !bytes.isEmpty else { throw DataError(.empty, "the IDX data is empty") }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DataError(.corrupt, "not an IDX file (the magic number must start with two zero bytes)")
        }
        guard let type = ElementType(rawValue: bytes[2]) else {
            throw DataError(.unsupported, "unknown IDX element type 0x\(String(bytes[2], radix: 16))")
        }
        let rank = Int(bytes[3])
        let headerCount = 4 + 4 * rank
        guard bytes.count >= headerCount else {
            throw DataError(.corrupt, "truncated IDX header: \(rank) dimensions need \(headerCount) bytes, the data has \(bytes.count)")
        }
        var shape: [Int] = []
        var count = 1
        for axis in 0..<rank {
            let at = 4 + 4 * axis
            let dimension = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            shape.append(dimension)
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw DataError(.corrupt, "IDX dimensions \(shape) overflow") }
            count = product
        }
        let (dataCount, overflow) = count.multipliedReportingOverflow(by: type.byteCount)
        guard !overflow, dataCount <= Int.max - headerCount else {
            throw DataError(.corrupt, "IDX size mismatch: shape \(shape) of \(type) needs too many data bytes")
        }
        guard !complete || bytes.count - headerCount == dataCount else {
            throw DataError(
                .corrupt,
                "IDX size mismatch: shape \(shape) of \(type) needs \(dataCount) data bytes, found \(bytes.count - headerCount)")
        }
        return (type, shape, headerCount, dataCount)
    }

    /// The element type and shape IDX data declares, read from its header alone (a compressed file is
    /// decompressed no further than the header): enough to know the memory the data would take before
    /// reading it.
    ///
    /// - Throws: `DataError` for data that is not IDX (or not gzip-compressed IDX).
    public static func declaredShape(of input: [UInt8]) throws -> (elementType: ElementType, shape: [Int]) {
        let bytes = Gzip.isCompressed(input) ? try Gzip.decompressedPrefix(input, count: 4 + 4 * 255) : input
        let head = try header(of: bytes, complete: false)
        return (head.type, head.shape)
    }

    /// Reads an IDX file (plain or gzip-compressed).
    public static func read(from url: URL) throws -> IDXArray {
        do {
            return try IDXArray(bytes: try readFileBytes(at: url))
        } catch let error as DataError {
            throw error.located(in: url)
        }
    }

    /// The value at flat (row-major) index `index`.
    ///
    /// - Precondition: `0 <= index < count`.
    public func value(at index: Int) -> Double {
        let at = index * elementType.byteCount
        func bigEndian(_ width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 << 8 | UInt64(payload[at + $1]) }
        }
        switch elementType {
        case .uint8: return Double(payload[at])
        case .int8: return Double(Int8(bitPattern: payload[at]))
        case .int16: return Double(Int16(bitPattern: UInt16(bigEndian(2))))
        case .int32: return Double(Int32(bitPattern: UInt32(bigEndian(4))))
        case .float32: return Double(Float(bitPattern: UInt32(bigEndian(4))))
        case .float64: return Double(bitPattern: bigEndian(8))
        }
    }

    /// All values as a tensor of the same shape, each multiplied by `scale`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func tensor<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self, scale: Double = 1) -> Tensor<Scalar> {
        if elementType == .uint8 {
            // The common case (images): a lookup table of the 256 scaled values.
            let table = (0..<256).map { Scalar(Double($0) * scale) }
            return Tensor(shape: shape, scalars: payload.map { table[Int($0)] })
        }
        return Tensor(shape: shape, scalars: (0..<count).map { Scalar(value(at: $0) * scale) })
    }

    /// All values as integers (for label files), or nil if a value is not an integer.
    public func integers() -> [Int]? {
        var result = [Int]()
        result.reserveCapacity(count)
        for index in 0..<count {
            let value = value(at: index)
            guard value == value.rounded(), abs(value) < 0x1p62 else { return nil }
            result.append(Int(value))
        }
        return result
    }
}
