// The C kernels for each scalar type, as static members that Float and Double implement: generic code calls
// `Scalar._add(...)`, a protocol requirement that specialisation resolves to bp_sadd or bp_dadd, instead of
// testing `Scalar.self == Float.self` at run time.
import CBackpropKernels

/// The vectorised kernels behind tensor operations, one implementation per scalar type.
///
/// An implementation detail of ``TensorScalar`` (which refines it): use tensor operations rather than these
/// members. Pointers address contiguous values; outputs may alias inputs unless a member says otherwise.
/// A type other than `Float` and `Double` gets plain Swift loops where one exists, and stops with a message
/// naming the operation elsewhere.
public protocol _ScalarKernels {
    /// z = x + y, elementwise over `count` values.
    static func _add(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = x - y, elementwise over `count` values.
    static func _subtract(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = x * y, elementwise over `count` values.
    static func _multiply(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = x + b over `count` values.
    static func _add(_ x: UnsafePointer<Self>, scalar b: Self, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = a * x over `count` values.
    static func _multiply(_ x: UnsafePointer<Self>, scalar a: Self, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = scale * x + shift over `count` values (product rounded, then sum rounded; not fused).
    static func _affine(_ x: UnsafePointer<Self>, scale: Self, shift: Self, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = max(x, 0) over `count` values; NaN stays NaN.
    static func _relu(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = input > 0 ? gradient : 0 over `count` values.
    static func _reluBackward(
        gradient: UnsafePointer<Self>, input: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = tanh(x) over `count` values.
    static func _tanh(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = exp(x) over `count` values.
    static func _exp(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = 1 / (1 + exp(-x)) over `count` values.
    static func _sigmoid(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = erf(x) over `count` values.
    static func _erf(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = ln x over `count` values.
    static func _log(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = sin x over `count` values.
    static func _sin(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = cos x over `count` values.
    static func _cos(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// z = tan x over `count` values.
    static func _tan(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int)
    /// The sum of `count` values, in several partial sums; 0 when `count` is 0.
    static func _sum(_ x: UnsafePointer<Self>, count: Int) -> Self
    /// z[i, j] = x[i, j] + bias[j] for a `rows`×`columns` row-major matrix.
    static func _addBiasRows(
        _ x: UnsafePointer<Self>, bias: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, rows: Int, columns: Int)
    /// sums[j] = the sum over i of x[i, j] for a `rows`×`columns` row-major matrix (`sums` is overwritten).
    static func _columnSums(_ x: UnsafePointer<Self>, _ sums: UnsafeMutablePointer<Self>, rows: Int, columns: Int)
    /// The row-wise softmax of `logits` into `probabilities`, and the mean over rows of -log(probability of
    /// the labelled class); labels are in 0..<columns.
    static func _softmaxCrossEntropy(
        logits: UnsafePointer<Self>, labels: UnsafePointer<Int>, probabilities: UnsafeMutablePointer<Self>,
        rows: Int, columns: Int) -> Self
    /// C = alpha·op(A)·op(B) + beta·C (row-major), large products split across threads.
    static func _gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// Writes the transpose of the contiguous rows×columns matrix `x` to `z`; the two must not overlap.
    static func _transpose(rows: Int, columns: Int, _ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>)
    /// One C×H×W image's [C·kh·kw, Ho·Wo] patch matrix (im2col) into `patches`, padding taps left as they are.
    static func _unfoldImage(
        _ image: UnsafePointer<Self>, into patches: UnsafeMutablePointer<Self>, channels: Int, height: Int, width: Int,
        outputHeight: Int, outputWidth: Int, geometry: WindowGeometry)
    /// Adds one image's patch gradient back into its C×H×W gradient (col2im).
    static func _foldImage(
        _ patches: UnsafePointer<Self>, into image: UnsafeMutablePointer<Self>, channels: Int, height: Int, width: Int,
        outputHeight: Int, outputWidth: Int, geometry: WindowGeometry)
    /// The flat position (in the whole batch) of each window's maximum in the height×width planes `range` of
    /// the planes stored one after another from `planes`; plane p's outputHeight·outputWidth positions go to
    /// `positions + p · outputHeight · outputWidth`.
    static func _maxPoolPositions(
        _ planes: UnsafePointer<Self>, _ positions: UnsafeMutablePointer<Int>, of range: Range<Int>, height: Int,
        width: Int, outputHeight: Int, outputWidth: Int, geometry: WindowGeometry)
    /// One Adam step over `count` parameters in place (see `bp_sadam_update`).
    static func _adamUpdate(
        _ p: UnsafeMutablePointer<Self>, _ g: UnsafePointer<Self>, _ m: UnsafeMutablePointer<Self>,
        _ v: UnsafeMutablePointer<Self>, count: Int, _ coefficients: _AdamCoefficients<Self>)
    /// Runs compiled programs' fused kernels (`bp_fused_sequence_*`): `kernels` points at `count` kernel
    /// descriptions, `table` at the buffers' base pointers, `scratch` at the interpreter's registers.
    static func _fusedSequence(_ kernels: UnsafeRawPointer, count: Int, table: UnsafeRawPointer, scratch: UnsafeMutablePointer<Self>)
    /// Resolves one fused kernel's operands from the table into `inputs` and `outputs` (`bp_fused_prepare_*`).
    static func _fusedPrepare(_ kernel: UnsafeRawPointer, table: UnsafeRawPointer, inputs: UnsafeMutableRawPointer, outputs: UnsafeMutableRawPointer)
    /// Runs rows `rows` and columns `columns` of one prepared fused kernel (`bp_fused_run_*`).
    static func _fusedRun(
        _ kernel: UnsafeRawPointer, inputs: UnsafeRawPointer, outputs: UnsafeRawPointer, rows: Range<Int>, columns: Range<Int>,
        scratch: UnsafeMutablePointer<Self>)
}

/// The scalars of one Adam step: m ← b1·m + (1−b1)·g′, v ← b2·v + (1−b2)·g′², p ← keep·p − stepSize·m / (√v·inverseRoot2 + eps),
/// with g′ = g + couple·p.
public struct _AdamCoefficients<Scalar: Sendable>: Sendable {
    /// β₁, β₂.
    public var b1: Scalar, b2: Scalar
    /// η/(1−β₁ᵗ), 1/√(1−β₂ᵗ), ε.
    public var stepSize: Scalar, inverseRoot2: Scalar, eps: Scalar
    /// The decoupled decay factor (1 − ηλ for AdamW, else 1) and the coupled decay (λ for Adam, else 0).
    public var keep: Scalar, couple: Scalar
}

// What a type other than Float and Double gets: the plain loops the library had for such types (transpose,
// image patches, Adam), and a stop naming the operation elsewhere. Float and Double implement every member
// (TensorScalar.swift), so none of these runs for them.
extension _ScalarKernels where Self: TensorScalar {
    /// Stops: no kernel for this type.
    public static func _add(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _subtract(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _multiply(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _add(_ x: UnsafePointer<Self>, scalar b: Self, _ z: UnsafeMutablePointer<Self>, count: Int) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _multiply(_ x: UnsafePointer<Self>, scalar a: Self, _ z: UnsafeMutablePointer<Self>, count: Int) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _affine(_ x: UnsafePointer<Self>, scale: Self, shift: Self, _ z: UnsafeMutablePointer<Self>, count: Int) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _relu(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _reluBackward(
        gradient: UnsafePointer<Self>, input: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int
    ) {
        unsupportedKernelScalar(Self.self)
    }
    /// A plain loop over the type's `tanh`.
    public static func _tanh(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { z[i] = Self.tanh(x[i]) }
    }
    /// A plain loop over the type's `exp`.
    public static func _exp(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { z[i] = Self.exp(x[i]) }
    }
    /// A plain loop over the type's `exp`.
    public static func _sigmoid(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { z[i] = 1 / (1 + Self.exp(-x[i])) }
    }
    /// A plain loop over the type's `erf`.
    public static func _erf(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { z[i] = Self.erf(x[i]) }
    }
    /// A plain loop over the type's `log`.
    public static func _log(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { z[i] = Self.log(x[i]) }
    }
    /// A plain loop over the type's `sin`.
    public static func _sin(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { z[i] = Self.sin(x[i]) }
    }
    /// A plain loop over the type's `cos`.
    public static func _cos(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { z[i] = Self.cos(x[i]) }
    }
    /// A plain loop over the type's `tan`.
    public static func _tan(_ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { z[i] = Self.tan(x[i]) }
    }
    /// Stops: no kernel for this type.
    public static func _sum(_ x: UnsafePointer<Self>, count: Int) -> Self {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _addBiasRows(
        _ x: UnsafePointer<Self>, bias: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>, rows: Int, columns: Int
    ) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _columnSums(_ x: UnsafePointer<Self>, _ sums: UnsafeMutablePointer<Self>, rows: Int, columns: Int) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _softmaxCrossEntropy(
        logits: UnsafePointer<Self>, labels: UnsafePointer<Int>, probabilities: UnsafeMutablePointer<Self>,
        rows: Int, columns: Int
    ) -> Self {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int
    ) {
        unsupportedKernelScalar(Self.self)
    }
    /// A plain loop.
    public static func _transpose(rows: Int, columns: Int, _ x: UnsafePointer<Self>, _ z: UnsafeMutablePointer<Self>) {
        for r in 0..<rows {
            for c in 0..<columns { z[c * rows + r] = x[r * columns + c] }
        }
    }
    /// The generic Swift unfolding.
    public static func _unfoldImage(
        _ image: UnsafePointer<Self>, into patches: UnsafeMutablePointer<Self>, channels: Int, height: Int, width: Int,
        outputHeight: Int, outputWidth: Int, geometry: WindowGeometry) {
        let rows = channels * geometry.kernel.height * geometry.kernel.width
        unfoldRows(source: image, destination: patches, rows: 0..<rows, n: 1, c: channels, h: height, w: width,
                   oh: outputHeight, ow: outputWidth, geometry: geometry)
    }
    /// The generic Swift folding.
    public static func _foldImage(
        _ patches: UnsafePointer<Self>, into image: UnsafeMutablePointer<Self>, channels: Int, height: Int, width: Int,
        outputHeight: Int, outputWidth: Int, geometry: WindowGeometry) {
        foldChannels(source: patches, destination: image, channels: 0..<channels, n: 1, c: channels, h: height,
                     w: width, oh: outputHeight, ow: outputWidth, geometry: geometry)
    }
    /// Stops: no kernel for this type.
    public static func _maxPoolPositions(
        _ planes: UnsafePointer<Self>, _ positions: UnsafeMutablePointer<Int>, of range: Range<Int>, height: Int,
        width: Int, outputHeight: Int, outputWidth: Int, geometry: WindowGeometry
    ) {
        unsupportedKernelScalar(Self.self)
    }
    /// A plain loop.
    public static func _adamUpdate(
        _ p: UnsafeMutablePointer<Self>, _ g: UnsafePointer<Self>, _ m: UnsafeMutablePointer<Self>,
        _ v: UnsafeMutablePointer<Self>, count: Int, _ k: _AdamCoefficients<Self>
    ) {
        for i in 0..<count {
            let gi = g[i] + k.couple * p[i]
            let mi = k.b1 * m[i] + (1 - k.b1) * gi
            let vi = k.b2 * v[i] + (1 - k.b2) * gi * gi
            m[i] = mi
            v[i] = vi
            p[i] = k.keep * p[i] - k.stepSize * mi / (vi.squareRoot() * k.inverseRoot2 + k.eps)
        }
    }
    /// Stops: no kernel for this type.
    public static func _fusedSequence(_ kernels: UnsafeRawPointer, count: Int, table: UnsafeRawPointer, scratch: UnsafeMutablePointer<Self>) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _fusedPrepare(_ kernel: UnsafeRawPointer, table: UnsafeRawPointer, inputs: UnsafeMutableRawPointer, outputs: UnsafeMutableRawPointer) {
        unsupportedKernelScalar(Self.self)
    }
    /// Stops: no kernel for this type.
    public static func _fusedRun(
        _ kernel: UnsafeRawPointer, inputs: UnsafeRawPointer, outputs: UnsafeRawPointer, rows: Range<Int>, columns: Range<Int>,
        scratch: UnsafeMutablePointer<Self>
    ) {
        unsupportedKernelScalar(Self.self)
    }
}
