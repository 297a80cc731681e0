// Vectorised elementwise kernels for generic code: each wrapper forwards to the C kernel for Float
// (bp_s...) or Double (bp_d...), which picks AVX2 or portable code at run time. Arrays are contiguous;
// outputs may alias inputs.
import CBackpropKernels

/// z = x + y, elementwise over `count` values.
func vectorAdd<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>,
                                     _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    if Scalar.self == Float.self {
        bp_sadd(kernelPointer(x, as: Float.self), kernelPointer(y, as: Float.self), kernelPointer(z, as: Float.self), count)
    } else if Scalar.self == Double.self {
        bp_dadd(kernelPointer(x, as: Double.self), kernelPointer(y, as: Double.self), kernelPointer(z, as: Double.self), count)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// z = x - y, elementwise over `count` values.
func vectorSubtract<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>,
                                          _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    if Scalar.self == Float.self {
        bp_ssub(kernelPointer(x, as: Float.self), kernelPointer(y, as: Float.self), kernelPointer(z, as: Float.self), count)
    } else if Scalar.self == Double.self {
        bp_dsub(kernelPointer(x, as: Double.self), kernelPointer(y, as: Double.self), kernelPointer(z, as: Double.self), count)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// z = x * y, elementwise over `count` values.
func vectorMultiply<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>,
                                          _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    if Scalar.self == Float.self {
        bp_smul(kernelPointer(x, as: Float.self), kernelPointer(y, as: Float.self), kernelPointer(z, as: Float.self), count)
    } else if Scalar.self == Double.self {
        bp_dmul(kernelPointer(x, as: Double.self), kernelPointer(y, as: Double.self), kernelPointer(z, as: Double.self), count)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// z = x + b over `count` values.
func vectorAddScalar<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ b: Scalar,
                                           _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    if Scalar.self == Float.self {
        bp_sadd_scalar(kernelPointer(x, as: Float.self), unsafeBitCast(b, to: Float.self), kernelPointer(z, as: Float.self), count)
    } else if Scalar.self == Double.self {
        bp_dadd_scalar(kernelPointer(x, as: Double.self), unsafeBitCast(b, to: Double.self), kernelPointer(z, as: Double.self), count)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// z = a * x over `count` values.
func vectorMultiplyScalar<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ a: Scalar,
                                                _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    if Scalar.self == Float.self {
        bp_smul_scalar(kernelPointer(x, as: Float.self), unsafeBitCast(a, to: Float.self), kernelPointer(z, as: Float.self), count)
    } else if Scalar.self == Double.self {
        bp_dmul_scalar(kernelPointer(x, as: Double.self), unsafeBitCast(a, to: Double.self), kernelPointer(z, as: Double.self), count)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// z = scale * x + shift over `count` values (product rounded, then sum rounded; not fused).
func vectorAffine<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, scale: Scalar, shift: Scalar,
                                        _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    if Scalar.self == Float.self {
        bp_saffine(kernelPointer(x, as: Float.self), unsafeBitCast(scale, to: Float.self),
                   unsafeBitCast(shift, to: Float.self), kernelPointer(z, as: Float.self), count)
    } else if Scalar.self == Double.self {
        bp_daffine(kernelPointer(x, as: Double.self), unsafeBitCast(scale, to: Double.self),
                   unsafeBitCast(shift, to: Double.self), kernelPointer(z, as: Double.self), count)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// z = max(x, 0) over `count` values; NaN stays NaN.
func vectorRelu<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    if Scalar.self == Float.self {
        bp_srelu(kernelPointer(x, as: Float.self), kernelPointer(z, as: Float.self), count)
    } else if Scalar.self == Double.self {
        bp_drelu(kernelPointer(x, as: Double.self), kernelPointer(z, as: Double.self), count)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// z = input > 0 ? gradient : 0 over `count` values: the gradient flowing back through a ReLU.
func vectorReluBackward<Scalar: TensorScalar>(gradient: UnsafePointer<Scalar>, input: UnsafePointer<Scalar>,
                                              _ z: UnsafeMutablePointer<Scalar>, count: Int) {
    if Scalar.self == Float.self {
        bp_srelu_backward(kernelPointer(gradient, as: Float.self), kernelPointer(input, as: Float.self),
                          kernelPointer(z, as: Float.self), count)
    } else if Scalar.self == Double.self {
        bp_drelu_backward(kernelPointer(gradient, as: Double.self), kernelPointer(input, as: Double.self),
                          kernelPointer(z, as: Double.self), count)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// The sum of `count` values (several partial sums added at the end, so the rounding differs slightly from
/// a left-to-right loop); 0 when `count` is 0.
func vectorSum<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, count: Int) -> Scalar {
    if Scalar.self == Float.self {
        return unsafeBitCast(bp_ssum(kernelPointer(x, as: Float.self), count), to: Scalar.self)
    } else if Scalar.self == Double.self {
        return unsafeBitCast(bp_dsum(kernelPointer(x, as: Double.self), count), to: Scalar.self)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// z[i, j] = x[i, j] + bias[j] for a `rows`×`columns` row-major matrix x (z has the same shape).
func addBiasRows<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>,
                                       _ z: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int) {
    if Scalar.self == Float.self {
        bp_sadd_bias_rows(kernelPointer(x, as: Float.self), kernelPointer(bias, as: Float.self),
                          kernelPointer(z, as: Float.self), rows, columns)
    } else if Scalar.self == Double.self {
        bp_dadd_bias_rows(kernelPointer(x, as: Double.self), kernelPointer(bias, as: Double.self),
                          kernelPointer(z, as: Double.self), rows, columns)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}

/// sums[j] = the sum over i of x[i, j] for a `rows`×`columns` row-major matrix x (the bias gradient);
/// `sums` has `columns` values and is overwritten (zeros when `rows` is 0).
func columnSums<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ sums: UnsafeMutablePointer<Scalar>,
                                      rows: Int, columns: Int) {
    if Scalar.self == Float.self {
        bp_scolumn_sums(kernelPointer(x, as: Float.self), kernelPointer(sums, as: Float.self), rows, columns)
    } else if Scalar.self == Double.self {
        bp_dcolumn_sums(kernelPointer(x, as: Double.self), kernelPointer(sums, as: Double.self), rows, columns)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
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
    if Scalar.self == Float.self {
        return unsafeBitCast(
            bp_ssoftmax_cross_entropy(kernelPointer(logits, as: Float.self), labels,
                                      kernelPointer(probabilities, as: Float.self), rows, columns),
            to: Scalar.self)
    } else if Scalar.self == Double.self {
        return unsafeBitCast(
            bp_dsoftmax_cross_entropy(kernelPointer(logits, as: Double.self), labels,
                                      kernelPointer(probabilities, as: Double.self), rows, columns),
            to: Scalar.self)
    } else {
        unsupportedKernelScalar(Scalar.self)
    }
}
