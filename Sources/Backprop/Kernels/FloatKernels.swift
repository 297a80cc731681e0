// The C kernels for Float (bp_s...), as the static members generic tensor code calls (see _ScalarKernels).
import CBackpropKernels

extension Float: _ScalarKernels {
    /// bp_sadd.
    public static func _add(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_sadd(x, y, z, count)
    }
    /// bp_ssub.
    public static func _subtract(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_ssub(x, y, z, count)
    }
    /// bp_smul.
    public static func _multiply(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_smul(x, y, z, count)
    }
    /// bp_sadd_scalar.
    public static func _add(_ x: UnsafePointer<Float>, scalar b: Float, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_sadd_scalar(x, b, z, count)
    }
    /// bp_smul_scalar.
    public static func _multiply(_ x: UnsafePointer<Float>, scalar a: Float, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_smul_scalar(x, a, z, count)
    }
    /// bp_saffine.
    public static func _affine(_ x: UnsafePointer<Float>, scale: Float, shift: Float, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_saffine(x, scale, shift, z, count)
    }
    /// bp_srelu.
    public static func _relu(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_srelu(x, z, count)
    }
    /// bp_srelu_backward.
    public static func _reluBackward(
        gradient: UnsafePointer<Float>, input: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int
    ) {
        useKernelSettings()
        bp_srelu_backward(gradient, input, z, count)
    }
    /// bp_stanh (vectorised; the C library's tanhf is one call per element).
    public static func _tanh(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_stanh(x, z, count)
    }
    /// bp_sexp (vectorised).
    public static func _exp(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_sexp(x, z, count)
    }
    /// bp_ssigmoid (vectorised).
    public static func _sigmoid(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_ssigmoid(x, z, count)
    }
    /// bp_serf (vectorised).
    public static func _erf(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_serf(x, z, count)
    }
    /// bp_slog (vectorised).
    public static func _log(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_slog(x, z, count)
    }
    /// bp_ssin (vectorised).
    public static func _sin(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_ssin(x, z, count)
    }
    /// bp_scos (vectorised).
    public static func _cos(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_scos(x, z, count)
    }
    /// bp_stan (vectorised).
    public static func _tan(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        useKernelSettings()
        bp_stan(x, z, count)
    }
    /// bp_ssum.
    public static func _sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        useKernelSettings()
        return bp_ssum(x, count)
    }
    /// bp_sadd_bias_rows.
    public static func _addBiasRows(
        _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, rows: Int, columns: Int
    ) {
        useKernelSettings()
        bp_sadd_bias_rows(x, bias, z, rows, columns)
    }
    /// bp_scolumn_sums.
    public static func _columnSums(_ x: UnsafePointer<Float>, _ sums: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        useKernelSettings()
        bp_scolumn_sums(x, sums, rows, columns)
    }
    /// bp_ssoftmax_cross_entropy.
    public static func _softmaxCrossEntropy(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int>, probabilities: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int
    ) -> Float {
        useKernelSettings()
        return bp_ssoftmax_cross_entropy(logits, labels, probabilities, rows, columns)
    }
    /// bp_sgemm, split across threads when large.
    public static func _gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    /// bp_stranspose.
    public static func _transpose(rows: Int, columns: Int, _ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>) {
        useKernelSettings()
        bp_stranspose(rows, columns, x, columns, z, rows)
    }
    /// bp_sunfold_image.
    public static func _unfoldImage(
        _ image: UnsafePointer<Float>, into patches: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int,
        outputHeight: Int, outputWidth: Int, geometry g: WindowGeometry
    ) {
        useKernelSettings()
        bp_sunfold_image(image, patches, channels, height, width, g.kernel.height, g.kernel.width, g.stride.height,
                         g.stride.width, g.padding.height, g.padding.width, g.dilation.height, g.dilation.width,
                         outputHeight, outputWidth)
    }
    /// bp_sfold_image.
    public static func _foldImage(
        _ patches: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int,
        outputHeight: Int, outputWidth: Int, geometry g: WindowGeometry
    ) {
        useKernelSettings()
        bp_sfold_image(patches, image, channels, height, width, g.kernel.height, g.kernel.width, g.stride.height,
                       g.stride.width, g.padding.height, g.padding.width, g.dilation.height, g.dilation.width,
                       outputHeight, outputWidth)
    }
    /// bp_smax_pool_positions.
    public static func _maxPoolPositions(
        _ planes: UnsafePointer<Float>, _ positions: UnsafeMutablePointer<Int>, of range: Range<Int>, height: Int,
        width: Int, outputHeight: Int, outputWidth: Int, geometry g: WindowGeometry
    ) {
        useKernelSettings()
        bp_smax_pool_positions(
            planes, positions, range.lowerBound, range.count, height, width, outputHeight, outputWidth,
            g.kernel.height, g.kernel.width,
            g.stride.height, g.stride.width, g.padding.height, g.padding.width, g.dilation.height, g.dilation.width)
    }
    /// bp_sadam_update.
    public static func _adamUpdate(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
        _ v: UnsafeMutablePointer<Float>, count: Int, _ k: _AdamCoefficients<Float>
    ) {
        useKernelSettings()
        bp_sadam_update(p, g, m, v, count, k.b1, k.b2, k.stepSize, k.inverseRoot2, k.eps, k.keep, k.couple)
    }
    /// bp_fused_sequence_s.
    public static func _fusedSequence(_ kernels: UnsafeRawPointer, count: Int, table: UnsafeRawPointer, scratch: UnsafeMutablePointer<Float>) {
        useKernelSettings()
        bp_fused_sequence_s(
            kernels.assumingMemoryBound(to: UnsafePointer<bp_fused_kernel>?.self), count,
            table.assumingMemoryBound(to: UnsafeMutablePointer<Float>?.self), scratch)
    }
    /// bp_fused_prepare_s.
    public static func _fusedPrepare(_ kernel: UnsafeRawPointer, table: UnsafeRawPointer, inputs: UnsafeMutableRawPointer, outputs: UnsafeMutableRawPointer) {
        useKernelSettings()
        bp_fused_prepare_s(
            kernel.assumingMemoryBound(to: bp_fused_kernel.self), table.assumingMemoryBound(to: UnsafeMutablePointer<Float>?.self),
            inputs.assumingMemoryBound(to: UnsafePointer<Float>?.self), outputs.assumingMemoryBound(to: UnsafeMutablePointer<Float>?.self))
    }
    /// bp_fused_run_s.
    public static func _fusedRun(
        _ kernel: UnsafeRawPointer, inputs: UnsafeRawPointer, outputs: UnsafeRawPointer, rows: Range<Int>, columns: Range<Int>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        bp_fused_run_s(
            kernel.assumingMemoryBound(to: bp_fused_kernel.self), inputs.assumingMemoryBound(to: UnsafePointer<Float>?.self),
            outputs.assumingMemoryBound(to: UnsafeMutablePointer<Float>?.self),
            rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound, scratch)
    }
}
