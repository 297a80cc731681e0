/// The mean over all elements of (predicted − expected)².
///
/// Gradient: 2 (predicted − expected) / n with respect to `predicted`.
///
/// - Precondition: the shapes broadcast together (normally they are equal).
public func meanSquaredError<Scalar>(predicted: Tensor<Scalar>, expected: Tensor<Scalar>) -> Tensor<Scalar> {
    let difference = predicted - expected
    return (difference * difference).mean()
}
