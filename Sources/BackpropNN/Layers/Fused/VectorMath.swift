import CBackpropKernels

/// The elementary functions of the library's vectorised C kernels (AVX2/AVX-512 where the CPU has them), over
/// raw arrays of either scalar type, for the fused layers' loops.
enum VectorFunction {
    case exp, tanh, sigmoid, erf

    /// y[i] = f(x[i]) for i in 0..<count (y may be x).
    func apply<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int) {
        guard count > 0 else { return }
        if Scalar.self == Float.self {
            let (x, y) = (UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
            switch self {
            case .exp: bp_sexp(x, y, count)
            case .tanh: bp_stanh(x, y, count)
            case .sigmoid: bp_ssigmoid(x, y, count)
            case .erf: bp_serf(x, y, count)
            }
        } else if Scalar.self == Double.self {
            let (x, y) = (UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self))
            switch self {
            case .exp: bp_dexp(x, y, count)
            case .tanh: bp_dtanh(x, y, count)
            case .sigmoid: bp_dsigmoid(x, y, count)
            case .erf: bp_derf(x, y, count)
            }
        } else {
            for i in 0..<count {
                switch self {
                case .exp: y[i] = Scalar.exp(x[i])
                case .tanh: y[i] = Scalar.tanh(x[i])
                case .sigmoid: y[i] = 1 / (1 + Scalar.exp(-x[i]))
                case .erf: y[i] = Scalar.erf(x[i])
                }
            }
        }
    }

    /// Applies the function in place to `values[range]`.
    func apply<Scalar: TensorScalar>(inPlace values: inout [Scalar], _ range: Range<Int>) {
        values.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            apply(base + range.lowerBound, base + range.lowerBound, count: range.count)
        }
    }
}

/// The library's vectorised elementwise kernels over raw arrays of either scalar type (z may alias x or y).
enum Vector {
    @inline(__always) static func float<Scalar>(_ p: UnsafePointer<Scalar>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }
    @inline(__always) static func float<Scalar>(_ p: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<Float> { UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self) }
    @inline(__always) static func double<Scalar>(_ p: UnsafePointer<Scalar>) -> UnsafePointer<Double> { UnsafeRawPointer(p).assumingMemoryBound(to: Double.self) }
    @inline(__always) static func double<Scalar>(_ p: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<Double> { UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self) }

    /// Σ x[0..<n].
    static func sum<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ n: Int) -> Scalar {
        if Scalar.self == Float.self { return unsafeBitCast(bp_ssum(float(x), n), to: Scalar.self) }
        if Scalar.self == Double.self { return unsafeBitCast(bp_dsum(double(x), n), to: Scalar.self) }
        return (0..<n).reduce(0) { $0 + x[$1] }
    }

    /// z = a·x + b.
    static func affine<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ a: Scalar, _ b: Scalar, _ z: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if Scalar.self == Float.self { bp_saffine(float(x), unsafeBitCast(a, to: Float.self), unsafeBitCast(b, to: Float.self), float(z), n) }
        else if Scalar.self == Double.self { bp_daffine(double(x), unsafeBitCast(a, to: Double.self), unsafeBitCast(b, to: Double.self), double(z), n) }
        else { for i in 0..<n { z[i] = a * x[i] + b } }
    }

    /// z = x ∘ y.
    static func multiply<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if Scalar.self == Float.self { bp_smul(float(x), float(y), float(z), n) }
        else if Scalar.self == Double.self { bp_dmul(double(x), double(y), double(z), n) }
        else { for i in 0..<n { z[i] = x[i] * y[i] } }
    }

    /// z = x + y.
    static func add<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if Scalar.self == Float.self { bp_sadd(float(x), float(y), float(z), n) }
        else if Scalar.self == Double.self { bp_dadd(double(x), double(y), double(z), n) }
        else { for i in 0..<n { z[i] = x[i] + y[i] } }
    }

    /// z = x − y.
    static func subtract<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if Scalar.self == Float.self { bp_ssub(float(x), float(y), float(z), n) }
        else if Scalar.self == Double.self { bp_dsub(double(x), double(y), double(z), n) }
        else { for i in 0..<n { z[i] = x[i] - y[i] } }
    }

    /// out[j] = Σ_i x[i, j] over the rows of an m×n matrix.
    static func columnSums<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ out: UnsafeMutablePointer<Scalar>, rows m: Int, columns n: Int) {
        if Scalar.self == Float.self { bp_scolumn_sums(float(x), float(out), m, n) }
        else if Scalar.self == Double.self { bp_dcolumn_sums(double(x), double(out), m, n) }
        else {
            for j in 0..<n { out[j] = 0 }
            for i in 0..<m { for j in 0..<n { out[j] += x[i * n + j] } }
        }
    }
}
