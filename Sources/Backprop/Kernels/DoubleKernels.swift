// The C kernels for Double (bp_d...), as the static members generic tensor code calls (see _ScalarKernels).
import CBackpropKernels

extension Double: _ScalarKernels {
    /// bp_dadd.
    public static func _add(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dadd(x, y, z, count)
    }
    /// bp_dsub.
    public static func _subtract(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dsub(x, y, z, count)
    }
    /// bp_dmul.
    public static func _multiply(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dmul(x, y, z, count)
    }
    /// bp_dadd_scalar.
    public static func _add(_ x: UnsafePointer<Double>, scalar b: Double, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dadd_scalar(x, b, z, count)
    }
    /// bp_dmul_scalar.
    public static func _multiply(_ x: UnsafePointer<Double>, scalar a: Double, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dmul_scalar(x, a, z, count)
    }
    /// bp_daffine.
    public static func _affine(_ x: UnsafePointer<Double>, scale: Double, shift: Double, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_daffine(x, scale, shift, z, count)
    }
    /// bp_drelu.
    public static func _relu(_ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_drelu(x, z, count)
    }
    /// bp_drelu_backward.
    public static func _reluBackward(
        gradient: UnsafePointer<Double>, input: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int
    ) {
        useKernelSettings()
        bp_drelu_backward(gradient, input, z, count)
    }
    /// bp_dtanh (vectorised; within 0.6 ulp, where the C library's tanh is off by up to 2.1).
    public static func _tanh(_ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dtanh(x, z, count)
    }
    /// bp_dexp (vectorised).
    public static func _exp(_ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dexp(x, z, count)
    }
    /// bp_dsigmoid (vectorised).
    public static func _sigmoid(_ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dsigmoid(x, z, count)
    }
    /// bp_derf (vectorised).
    public static func _erf(_ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_derf(x, z, count)
    }
    /// bp_dlog (vectorised).
    public static func _log(_ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dlog(x, z, count)
    }
    /// bp_dsin (vectorised).
    public static func _sin(_ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dsin(x, z, count)
    }
    /// bp_dcos (vectorised).
    public static func _cos(_ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dcos(x, z, count)
    }
    /// bp_dtan (vectorised).
    public static func _tan(_ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, count: Int) {
        useKernelSettings()
        bp_dtan(x, z, count)
    }
    /// bp_dsum.
    public static func _sum(_ x: UnsafePointer<Double>, count: Int) -> Double {
        useKernelSettings()
        return bp_dsum(x, count)
    }
    /// bp_dadd_bias_rows.
    public static func _addBiasRows(
        _ x: UnsafePointer<Double>, bias: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, rows: Int, columns: Int
    ) {
        useKernelSettings()
        bp_dadd_bias_rows(x, bias, z, rows, columns)
    }
    /// bp_dcolumn_sums.
    public static func _columnSums(_ x: UnsafePointer<Double>, _ sums: UnsafeMutablePointer<Double>, rows: Int, columns: Int) {
        useKernelSettings()
        bp_dcolumn_sums(x, sums, rows, columns)
    }
    /// bp_dsoftmax_cross_entropy.
    public static func _softmaxCrossEntropy(
        logits: UnsafePointer<Double>, labels: UnsafePointer<Int>, probabilities: UnsafeMutablePointer<Double>,
        rows: Int, columns: Int
    ) -> Double {
        useKernelSettings()
        return bp_dsoftmax_cross_entropy(logits, labels, probabilities, rows, columns)
    }
    /// bp_dgemm, split across threads when large.
    public static func _gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    /// bp_dtranspose.
    public static func _transpose(rows: Int, columns: Int, _ x: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
        useKernelSettings()
        bp_dtranspose(rows, columns, x, columns, z, rows)
    }
    /// bp_dunfold_image.
    public static func _unfoldImage(
        _ image: UnsafePointer<Double>, into patches: UnsafeMutablePointer<Double>, channels: Int, height: Int, width: Int,
        outputHeight: Int, outputWidth: Int, geometry g: WindowGeometry
    ) {
        useKernelSettings()
        bp_dunfold_image(image, patches, channels, height, width, g.kernel.height, g.kernel.width, g.stride.height,
                         g.stride.width, g.padding.height, g.padding.width, g.dilation.height, g.dilation.width,
                         outputHeight, outputWidth)
    }
    /// bp_dfold_image.
    public static func _foldImage(
        _ patches: UnsafePointer<Double>, into image: UnsafeMutablePointer<Double>, channels: Int, height: Int, width: Int,
        outputHeight: Int, outputWidth: Int, geometry g: WindowGeometry
    ) {
        useKernelSettings()
        bp_dfold_image(patches, image, channels, height, width, g.kernel.height, g.kernel.width, g.stride.height,
                       g.stride.width, g.padding.height, g.padding.width, g.dilation.height, g.dilation.width,
                       outputHeight, outputWidth)
    }
    /// bp_dmax_pool_positions.
    public static func _maxPoolPositions(
        _ planes: UnsafePointer<Double>, _ positions: UnsafeMutablePointer<Int>, of range: Range<Int>, height: Int,
        width: Int, outputHeight: Int, outputWidth: Int, geometry g: WindowGeometry
    ) {
        useKernelSettings()
        bp_dmax_pool_positions(
            planes, positions, range.lowerBound, range.count, height, width, outputHeight, outputWidth,
            g.kernel.height, g.kernel.width,
            g.stride.height, g.stride.width, g.padding.height, g.padding.width, g.dilation.height, g.dilation.width)
    }
    /// bp_dadam_update.
    public static func _adamUpdate(
        _ p: UnsafeMutablePointer<Double>, _ g: UnsafePointer<Double>, _ m: UnsafeMutablePointer<Double>,
        _ v: UnsafeMutablePointer<Double>, count: Int, _ k: _AdamCoefficients<Double>
    ) {
        useKernelSettings()
        bp_dadam_update(p, g, m, v, count, k.b1, k.b2, k.stepSize, k.inverseRoot2, k.eps, k.keep, k.couple)
    }
    /// bp_fused_sequence_d.
    public static func _fusedSequence(_ kernels: UnsafeRawPointer, count: Int, table: UnsafeRawPointer, scratch: UnsafeMutablePointer<Double>) {
        useKernelSettings()
        bp_fused_sequence_d(
            kernels.assumingMemoryBound(to: UnsafePointer<bp_fused_kernel>?.self), count,
            table.assumingMemoryBound(to: UnsafeMutablePointer<Double>?.self), scratch)
    }
    /// bp_fused_prepare_d.
    public static func _fusedPrepare(_ kernel: UnsafeRawPointer, table: UnsafeRawPointer, inputs: UnsafeMutableRawPointer, outputs: UnsafeMutableRawPointer) {
        useKernelSettings()
        bp_fused_prepare_d(
            kernel.assumingMemoryBound(to: bp_fused_kernel.self), table.assumingMemoryBound(to: UnsafeMutablePointer<Double>?.self),
            inputs.assumingMemoryBound(to: UnsafePointer<Double>?.self), outputs.assumingMemoryBound(to: UnsafeMutablePointer<Double>?.self))
    }
    /// bp_fused_run_d.
    public static func _fusedRun(
        _ kernel: UnsafeRawPointer, inputs: UnsafeRawPointer, outputs: UnsafeRawPointer, rows: Range<Int>, columns: Range<Int>,
        scratch: UnsafeMutablePointer<Double>
    ) {
        bp_fused_run_d(
            kernel.assumingMemoryBound(to: bp_fused_kernel.self), inputs.assumingMemoryBound(to: UnsafePointer<Double>?.self),
            outputs.assumingMemoryBound(to: UnsafeMutablePointer<Double>?.self),
            rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound, scratch)
    }
}
