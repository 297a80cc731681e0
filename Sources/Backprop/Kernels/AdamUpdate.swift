// Adam's update as a core operation, so that the optimizers in BackpropNN reach the kernels through the core
// rather than calling the C library themselves.

/// One Adam (or AdamW) step on `parameter` in place, with its moment estimates `m` and `v`, in one
/// branch-free vectorised pass (the scalar type's `_adamUpdate`: bp_sadam_update or bp_dadam_update):
///
///     g′ = g + couple·p;  m ← b1·m + (1−b1)·g′;  v ← b2·v + (1−b2)·g′²;  p ← keep·p − stepSize·m / (√v·inverseRoot2 + eps)
///
/// `stepSize` is η/(1−β₁ᵗ) and `inverseRoot2` 1/√(1−β₂ᵗ) (PyTorch's arrangement of the bias corrections);
/// `keep` is 1 − ηλ for AdamW (else 1) and `couple` λ for Adam (else 0). The four tensors must have the same
/// number of elements. Gradient tracking stops at the updated tensors, as for any optimizer update.
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
package func adamUpdate<Scalar: TensorScalar>(
    _ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, m: inout Tensor<Scalar>, v: inout Tensor<Scalar>,
    b1: Scalar, b2: Scalar, stepSize: Scalar, inverseRoot2: Scalar, eps: Scalar, keep: Scalar, couple: Scalar
) {
    let count = parameter.scalarCount
    precondition(gradient.scalarCount == count && m.scalarCount == count && v.scalarCount == count,
                 "adamUpdate: parameter \(parameter.shape), gradient \(gradient.shape), moments \(m.shape) and \(v.shape) differ in size")
    let coefficients = _AdamCoefficients(
        b1: b1, b2: b2, stepSize: stepSize, inverseRoot2: inverseRoot2, eps: eps, keep: keep, couple: couple)
    gradient.withUnsafeScalars { g in
        parameter.withUnsafeMutableScalars { p in
            m.withUnsafeMutableScalars { m in
                v.withUnsafeMutableScalars { v in
                    guard p.count > 0 else { return }
                    Scalar._adamUpdate(p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!, count: p.count,
                                       coefficients)
                }
            }
        }
    }
}
