/// The little-endian bytes of floating-point values (IEEE 754 binary32 for Float, binary64 otherwise).
func littleEndianBytes<Scalar: TensorScalar>(_ scalars: [Scalar]) -> [UInt8] {
    #if _endian(little)
    // The values' own memory is those bytes: one copy, instead of a byte at a time.
    if Scalar.self == Float.self || Scalar.self == Double.self { return scalars.withUnsafeBytes { Array($0) } }
    #endif
    var bytes = [UInt8]()
    if let floats = scalars as? [Float] {
        bytes.reserveCapacity(floats.count * 4)
        for value in floats {
            let bits = value.bitPattern
            for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k)))) }
        }
    } else {
        bytes.reserveCapacity(scalars.count * 8)
        for value in scalars {
            let bits = Double(value).bitPattern
            for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(k)))) }
        }
    }
    return bytes
}

/// The value of an IEEE 754 half-precision (binary16) bit pattern.
func halfToFloat(_ bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1F)
    let fraction = Float(bits & 0x3FF)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24  // zero and subnormals
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}

/// The value of a bfloat16 bit pattern (the upper half of a binary32).
func bfloat16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
