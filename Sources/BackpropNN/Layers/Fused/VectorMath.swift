import Backprop

/// The elementary functions of the core's vectorised kernels (`TensorScalar`'s `_exp`, `_tanh`, `_sigmoid`,
/// `_erf`: AVX2/AVX-512 where the CPU has them), over raw arrays, for the fused layers' loops.
enum VectorFunction {
    case exp, tanh, sigmoid, erf

    /// y[i] = f(x[i]) for i in 0..<count (y may be x).
    func apply<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int) {
        guard count > 0 else { return }
        switch self {
        case .exp: Scalar._exp(x, y, count: count)
        case .tanh: Scalar._tanh(x, y, count: count)
        case .sigmoid: Scalar._sigmoid(x, y, count: count)
        case .erf: Scalar._erf(x, y, count: count)
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

/// The core's vectorised elementwise kernels over raw arrays (z may alias x or y).
enum Vector {
    /// Σ x[0..<n].
    static func sum<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ n: Int) -> Scalar {
        n > 0 ? Scalar._sum(x, count: n) : 0
    }

    /// z = a·x + b.
    static func affine<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ a: Scalar, _ b: Scalar, _ z: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if n > 0 { Scalar._affine(x, scale: a, shift: b, z, count: n) }
    }

    /// z = x ∘ y.
    static func multiply<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if n > 0 { Scalar._multiply(x, y, z, count: n) }
    }

    /// z = x + y.
    static func add<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if n > 0 { Scalar._add(x, y, z, count: n) }
    }

    /// z = x − y.
    static func subtract<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>, _ n: Int) {
        if n > 0 { Scalar._subtract(x, y, z, count: n) }
    }

    /// out[j] = Σ_i x[i, j] over the rows of an m×n matrix.
    static func columnSums<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ out: UnsafeMutablePointer<Scalar>, rows m: Int, columns n: Int) {
        if m > 0 && n > 0 { Scalar._columnSums(x, out, rows: m, columns: n) } else { for j in 0..<n { out[j] = 0 } }
    }
}
