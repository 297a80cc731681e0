/// How `gelu` computes Φ(x), the standard normal distribution function: exactly, or with PyTorch's tanh
/// approximation.
public enum GELUApproximation: String, Sendable, CaseIterable {
    /// x·Φ(x) with Φ(x) = (1 + erf(x/√2)) / 2: PyTorch's default (`approximate='none'`).
    case none
    /// x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³))): PyTorch's `approximate='tanh'`, GPT-2's form.
    case tanh
}

/// The Gaussian error linear unit x·Φ(x) elementwise, as PyTorch's `nn.functional.gelu` (Hendrycks and Gimpel, 2016).
///
/// The exact form is one recorded primitive (one pass forward over the vectorised erf, one back) whose
/// derivatives of higher order follow its composition with `erf`; the approximation is composed of `tanh` and
/// arithmetic. Either works under every transform.
public func gelu<Scalar>(_ x: Tensor<Scalar>, approximation: GELUApproximation = .none) -> Tensor<Scalar> {
    switch approximation {
    case .none:
        return fusedGELU(x)
    case .tanh:
        return 0.5 * x * (1 + tanh(Scalar(0.7978845608028654) * (x + Scalar(0.044715) * x * x * x)))
    }
}

/// A parameterless layer applying `gelu` elementwise, as PyTorch's `nn.GELU(approximate=...)`.
public struct GELU<Scalar: TensorScalar>: ParameterFreeLayer {
    /// Exact (the default) or the tanh approximation.
    public var approximation: GELUApproximation

    /// Creates the layer.
    public init(approximation: GELUApproximation = .none) { self.approximation = approximation }

    /// x·Φ(x).
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        gelu(input, approximation: approximation)
    }
}
