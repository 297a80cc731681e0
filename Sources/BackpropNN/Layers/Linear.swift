/// How a `Linear` layer draws its initial weights.
public enum WeightInitialization: String, Sendable, CaseIterable {
    /// He (Kaiming) normal: N(0, 2 / fanIn), suited to ReLU networks.
    case he
    /// Glorot (Xavier) uniform: U(±√(6 / (fanIn + fanOut))), suited to tanh and sigmoid networks.
    case glorot

    /// A weight matrix of shape `[fanOut, fanIn]` drawn with this scheme.
    public func weights<Scalar: TensorScalar>(fanIn: Int, fanOut: Int, using generator: inout SeededGenerator)
        -> Tensor<Scalar>
    {
        switch self {
        case .he:
            let deviation = Scalar((2 / Double(Swift.max(fanIn, 1))).squareRoot())
            return .randomNormal(shape: [fanOut, fanIn], standardDeviation: deviation, using: &generator)
        case .glorot:
            let limit = Scalar((6 / Double(Swift.max(fanIn + fanOut, 1))).squareRoot())
            return .randomUniform(shape: [fanOut, fanIn], lowerBound: -limit, upperBound: limit, using: &generator)
        }
    }
}

/// A fully connected layer: y = x · Wᵀ + b.
///
/// The weight has shape `[outputSize, inputSize]` and the bias `[outputSize]`, as in PyTorch's
/// `nn.Linear`, so weights load unchanged from PyTorch checkpoints.
public struct Linear<Scalar: TensorScalar>: Layer {
    /// The weight matrix, shape `[outputSize, inputSize]`.
    public var weight: Tensor<Scalar>
    /// The bias, shape `[outputSize]`, or nil for a layer without bias.
    public var bias: Tensor<Scalar>?

    /// Creates a layer from given weights.
    ///
    /// - Precondition: `weight` has rank 2 and `bias`, if any, has shape `[weight.shape[0]]`.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        precondition(weight.rank == 2, "Linear: weight must be a matrix, got shape \(weight.shape)")
        if let bias {
            precondition(bias.shape == [weight.shape[0]], "Linear: bias shape \(bias.shape) does not match weight \(weight.shape)")
        }
        self.weight = weight
        self.bias = bias
    }

    /// Creates a layer with freshly initialised weights and a zero bias.
    ///
    /// - Parameters:
    ///   - inputSize: features per input example.
    ///   - outputSize: features per output example.
    ///   - initialization: how to draw the weights.
    ///   - hasBias: whether to add a bias.
    ///   - generator: the random source for the weights.
    public init(
        inputSize: Int, outputSize: Int, initialization: WeightInitialization = .he, hasBias: Bool = true,
        using generator: inout SeededGenerator
    ) {
        self.init(
            weight: initialization.weights(fanIn: inputSize, fanOut: outputSize, using: &generator),
            bias: hasBias ? Tensor.zeros(shape: [outputSize]) : nil)
    }

    /// Creates a layer with freshly initialised weights drawn from `seed`.
    public init(
        inputSize: Int, outputSize: Int, initialization: WeightInitialization = .he, hasBias: Bool = true,
        seed: UInt64
    ) {
        var generator = SeededGenerator(seed: seed)
        self.init(
            inputSize: inputSize, outputSize: outputSize, initialization: initialization, hasBias: hasBias,
            using: &generator)
    }

    /// Features per input example.
    public var inputSize: Int { weight.shape[1] }
    /// Features per output example.
    public var outputSize: Int { weight.shape[0] }

    /// x · Wᵀ + b for a batch `x` of shape `[n, inputSize]`.
    public func callAsFunction(_ input: Tensor<Scalar>, context: ForwardContext) -> Tensor<Scalar> {
        precondition(
            input.rank == 2 && input.shape[1] == inputSize,
            "Linear: expected input of shape [n, \(inputSize)], got \(input.shape)")
        let product = matmul(input, weight, transposeB: true)
        guard let bias else { return product }
        return product + bias
    }
}
