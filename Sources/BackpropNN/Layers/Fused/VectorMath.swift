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
