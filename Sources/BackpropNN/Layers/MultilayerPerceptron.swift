extension Sequential {
    /// A multilayer perceptron: `Linear` layers between consecutive widths with an activation between
    /// them (none after the last), optionally with dropout after each activation.
    ///
    /// `multilayerPerceptron(widths: [64, 128, 10], seed: 0)` builds Linear(64→128), ReLU,
    /// Linear(128→10), whose parameters are named `0.weight`, `0.bias`, `2.weight`, `2.bias`, matching
    /// PyTorch's `nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))`.
    ///
    /// - Parameters:
    ///   - widths: input features, hidden widths, then outputs; at least two entries, all positive.
    ///   - activation: the hidden activation.
    ///   - initialization: the weight scheme; by default the one that suits `activation`.
    ///   - dropout: the dropout probability after each hidden activation (0 for none).
    ///   - seed: seeds the initial weights.
    public static func multilayerPerceptron(
        widths: [Int], activation: Activation = .relu, initialization: WeightInitialization? = nil,
        dropout: Double = 0, seed: UInt64
    ) -> Sequential {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 }, "multilayerPerceptron: needs at least two positive widths, got \(widths)")
        var generator = SeededGenerator(seed: seed)
        let scheme = initialization ?? activation.preferredInitialization
        var layers: [any Layer<Scalar>] = []
        for index in 0..<(widths.count - 1) {
            let isLast = index == widths.count - 2
            layers.append(
                Linear<Scalar>(
                    inputSize: widths[index], outputSize: widths[index + 1],
                    initialization: isLast && activation == .relu ? .glorot : scheme, using: &generator))
            if !isLast {
                layers.append(makeActivationLayer(activation, scalar: Scalar.self))
                if dropout > 0 { layers.append(Dropout<Scalar>(probability: dropout)) }
            }
        }
        return Sequential(layers)
    }
}
