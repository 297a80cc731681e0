// Vectorised elementwise kernels for generic code: each wrapper calls the scalar type's kernel
// (`_ScalarKernels`: bp_s... for Float, bp_d... for Double), which picks AVX2 or portable code at run time.
// Arrays are contiguous; outputs may alias inputs.

/// z = x + y, elementwise over `count` values.
func vectorAdd<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>,
                                     _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    Scalar._add(x, y, z, count: count)
}

/// z = x - y, elementwise over `count` values.
func vectorSubtract<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>,
                                          _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    Scalar._subtract(x, y, z, count: count)
}

/// z = x * y, elementwise over `count` values.
func vectorMultiply<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>,
                                          _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    Scalar._multiply(x, y, z, count: count)
}

/// z = x + b over `count` values.
func vectorAddScalar<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ b: Scalar,
                                           _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    Scalar._add(x, scalar: b, z, count: count)
}

/// z = a * x over `count` values.
func vectorMultiplyScalar<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ a: Scalar,
                                                _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    Scalar._multiply(x, scalar: a, z, count: count)
}

/// z = scale * x + shift over `count` values (product rounded, then sum rounded; not fused).
func vectorAffine<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, scale: Scalar, shift: Scalar,
                                        _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    Scalar._affine(x, scale: scale, shift: shift, z, count: count)
}

/// z = max(x, 0) over `count` values; NaN stays NaN.
func vectorRelu<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    Scalar._relu(x, z, count: count)
}

/// z = input > 0 ? gradient : 0 over `count` values: the gradient flowing back through a ReLU.
func vectorReluBackward<Scalar: TensorScalar>(gradient: UnsafePointer<Scalar>, input: UnsafePointer<Scalar>,
                                              _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    Scalar._reluBackward(gradient: gradient, input: input, z, count: count)
}

/// The sum of `count` values (several partial sums added at the end, so the rounding differs slightly from
/// a left-to-right loop); 0 when `count` is 0.
func vectorSum<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, count: Int) -> Scalar {
    Scalar._sum(x, count: count)
}

/// z[i, j] = x[i, j] + bias[j] for a `rows`×`columns` row-major matrix x (z has the same shape).
func addBiasRows<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>,
                                       _ z: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int) {
    Scalar._addBiasRows(x, bias: bias, z, rows: rows, columns: columns)
}

/// sums[j] = the sum over i of x[i, j] for a `rows`×`columns` row-major matrix x (the bias gradient);
/// `sums` has `columns` values and is overwritten (zeros when `rows` is 0).
func columnSums<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ sums: UnsafeMutablePointer<Scalar>,
                                      rows: Int, columns: Int) {
    Scalar._columnSums(x, sums, rows: rows, columns: columns)
}

/// Fused softmax and cross-entropy: writes the row-wise softmax of a `rows`×`columns` logits matrix into
/// `probabilities` (same shape, may alias `logits`) and returns the mean over rows of
/// -log(probability of the labelled class). Each label must be in 0..<columns. Returns 0 when `rows` is 0.
func softmaxCrossEntropy<Scalar: TensorScalar>(logits: UnsafePointer<Scalar>, labels: UnsafePointer<Int>,
                                               probabilities: UnsafeMutablePointer<Scalar>,
                                               rows: Int, columns: Int) -> Scalar {
    for row in 0..<rows {
        precondition(labels[row] >= 0 && labels[row] < columns,
                     "softmaxCrossEntropy: label \(labels[row]) of row \(row) is outside 0..<\(columns)")
    }
    return Scalar._softmaxCrossEntropy(logits: logits, labels: labels, probabilities: probabilities, rows: rows, columns: columns)
}
