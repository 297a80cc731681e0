/// A network written as a line of text, for the command line and for checkpoints: comma-separated layers
/// applied in order to examples of a given shape (channels × height × width for images).
///
/// Layers: `conv:OUT:K` (a K×K convolution to OUT channels; options `:sS` stride, `:pP` padding, `:dD`
/// dilation, `:gG` groups, `:nobias`), `maxpool:K` and `avgpool:K` (options `:sS`, `:pP`), `bn` (batch
/// normalisation of the current channels), `gap` (global average pool), `flatten`, `linear:OUT`,
/// `relu`, `tanh`, `sigmoid`, `dropout:P`. The network starts with an `Unflatten` to the example shape, a
/// `flatten` is added before the first `linear` that meets an image, and a last `linear` to the class count
/// is appended, so the spec lists the hidden layers only, as `--layers` does for an MLP.
///
/// ```swift
/// let spec = try ArchitectureSpecification(parsing: "conv:16:3:p1,relu,maxpool:2,flatten,linear:64,relu")
/// let model: Sequential<Float> = try spec.model(exampleShape: [1, 28, 28], classCount: 10, seed: 0)
/// ```
public struct ArchitectureSpecification: Sendable, Equatable, CustomStringConvertible {
    /// One layer of the spec.
    public enum Item: Sendable, Equatable {
        /// A convolution: output channels, kernel size, stride, padding, dilation, groups, bias.
        case convolution(outputs: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, groups: Int, bias: Bool)
        /// Max pooling: kernel, stride, padding.
        case maxPool(kernel: Int, stride: Int, padding: Int)
        /// Average pooling: kernel, stride, padding.
        case averagePool(kernel: Int, stride: Int, padding: Int)
        /// Batch normalisation.
        case batchNorm
        /// Global average pooling.
        case globalAveragePool
        /// Flatten to `[N, features]`.
        case flatten
        /// A dense layer to this many outputs.
        case linear(outputs: Int)
        /// An activation.
        case activation(Activation)
        /// Dropout with this probability.
        case dropout(Double)
    }

    /// The layers, in order.
    public var items: [Item]

    /// The built-in small CNN for 28×28 digits: conv 3×3 to 16 (padding 1), ReLU, max-pool 2, conv 3×3 to 32
    /// (padding 1), ReLU, max-pool 2, flatten, linear to 128, ReLU (then the classifier layer).
    public static let smallCNN = try! ArchitectureSpecification(
        parsing: "conv:16:3:p1,relu,maxpool:2,conv:32:3:p1,relu,maxpool:2,flatten,linear:128,relu")

    /// Parses a spec.
    ///
    /// - Throws: `ArchitectureError` naming the layer that cannot be read and why.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchitectureError("the architecture is empty") }
        items = try parts.enumerated().map { index, part in try Self.item(part, position: index + 1) }
    }

    private static func item(_ text: String, position: Int) throws -> Item {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func fail(_ why: String) -> ArchitectureError { ArchitectureError("layer \(position) '\(text)': \(why)") }
        func positive(_ field: String, _ what: String) throws -> Int {
            guard let value = Int(field), value > 0, value <= 1 << 16 else { throw fail("\(what) must be a positive integer, got '\(field)'") }
            return value
        }
        /// Options such as `s2`, `p1`: letter → value.
        func options(_ fields: ArraySlice<String>, allowed: String) throws -> [Character: Int] {
            var result: [Character: Int] = [:]
            for field in fields {
                if field == "nobias" && allowed.contains("n") { result["n"] = 1; continue }
                guard let letter = field.first, allowed.contains(letter), let value = Int(field.dropFirst()), value >= (letter == "p" ? 0 : 1) else {
                    throw fail("cannot read option '\(field)' (allowed: \(allowed.map { $0 == "n" ? "nobias" : "\($0)N" }.joined(separator: ", ")))")
                }
                result[letter] = value
            }
            return result
        }
        switch fields[0].lowercased() {
        case "conv":
            guard fields.count >= 3 else { throw fail("write conv:OUT:K, e.g. conv:16:3:p1") }
            let outputs = try positive(fields[1], "the output channel count"), kernel = try positive(fields[2], "the kernel size")
            let o = try options(fields[3...], allowed: "spdgn")
            return .convolution(outputs: outputs, kernel: kernel, stride: o["s"] ?? 1, padding: o["p"] ?? 0,
                                dilation: o["d"] ?? 1, groups: o["g"] ?? 1, bias: o["n"] == nil)
        case "maxpool", "avgpool":
            guard fields.count >= 2 else { throw fail("write \(fields[0]):K, e.g. \(fields[0]):2") }
            let kernel = try positive(fields[1], "the window size")
            let o = try options(fields[2...], allowed: "sp")
            guard (o["p"] ?? 0) * 2 <= kernel else { throw fail("padding must be at most half the window") }
            return fields[0].lowercased() == "maxpool"
                ? .maxPool(kernel: kernel, stride: o["s"] ?? kernel, padding: o["p"] ?? 0)
                : .averagePool(kernel: kernel, stride: o["s"] ?? kernel, padding: o["p"] ?? 0)
        case "bn", "batchnorm": guard fields.count == 1 else { throw fail("bn takes no options") }; return .batchNorm
        case "gap": guard fields.count == 1 else { throw fail("gap takes no options") }; return .globalAveragePool
        case "flatten": guard fields.count == 1 else { throw fail("flatten takes no options") }; return .flatten
        case "linear", "dense":
            guard fields.count == 2 else { throw fail("write linear:OUT, e.g. linear:128") }
            return .linear(outputs: try positive(fields[1], "the width"))
        case "dropout":
            guard fields.count == 2, let p = Double(fields[1]), p >= 0, p < 1 else { throw fail("write dropout:P with P in [0, 1)") }
            return .dropout(p)
        default:
            if fields.count == 1, let activation = Activation(rawValue: fields[0].lowercased()) { return .activation(activation) }
            throw fail("unknown layer (known: conv, maxpool, avgpool, bn, gap, flatten, linear, dropout, \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    /// The spec as text, in the form `init(parsing:)` reads (options written out).
    public var description: String {
        items.map { item -> String in
            switch item {
            case let .convolution(outputs, kernel, stride, padding, dilation, groups, bias):
                var text = "conv:\(outputs):\(kernel)"
                if stride != 1 { text += ":s\(stride)" }
                if padding != 0 { text += ":p\(padding)" }
                if dilation != 1 { text += ":d\(dilation)" }
                if groups != 1 { text += ":g\(groups)" }
                if !bias { text += ":nobias" }
                return text
            case let .maxPool(kernel, stride, padding): return "maxpool:\(kernel)" + (stride != kernel ? ":s\(stride)" : "") + (padding != 0 ? ":p\(padding)" : "")
            case let .averagePool(kernel, stride, padding): return "avgpool:\(kernel)" + (stride != kernel ? ":s\(stride)" : "") + (padding != 0 ? ":p\(padding)" : "")
            case .batchNorm: return "bn"
            case .globalAveragePool: return "gap"
            case .flatten: return "flatten"
            case .linear(let outputs): return "linear:\(outputs)"
            case .activation(let activation): return activation.rawValue
            case .dropout(let p): return "dropout:\(p)"
            }
        }.joined(separator: ",")
    }

    /// Builds the network for examples of `exampleShape` (`[C, H, W]` for images, `[F]` for feature
    /// vectors) and `classCount` classes, with weights drawn from `seed`.
    ///
    /// - Throws: `ArchitectureError` when a layer does not fit what reaches it (see `validate`).
    public func model<Scalar: TensorScalar>(exampleShape: [Int], classCount: Int, seed: UInt64) throws -> Sequential<Scalar> {
        let placed = try placedLayers(exampleShape: exampleShape, classCount: classCount)
        var generator = SeededGenerator(seed: seed)
        var layers: [any Layer<Scalar>] = [Unflatten<Scalar>(shape: exampleShape)]
        for (index, layer) in placed.enumerated() {
            let input = layer.input
            if case .linear = layer.item, input.count == 3 { layers.append(Flatten<Scalar>()) }   // implied by `linear`
            switch layer.item {
            case let .convolution(outputs, kernel, stride, padding, dilation, groups, bias):
                layers.append(Conv2D<Scalar>(
                    inputChannels: input[0], outputChannels: outputs, kernelSize: (kernel, kernel), stride: (stride, stride),
                    padding: (padding, padding), dilation: (dilation, dilation), groups: groups, hasBias: bias, using: &generator))
            case let .maxPool(kernel, stride, padding):
                layers.append(MaxPool2D<Scalar>(kernelSize: (kernel, kernel), stride: (stride, stride), padding: (padding, padding)))
            case let .averagePool(kernel, stride, padding):
                layers.append(AvgPool2D<Scalar>(kernelSize: (kernel, kernel), stride: (stride, stride), padding: (padding, padding)))
            case .batchNorm: layers.append(BatchNorm<Scalar>(channels: input[0]))
            case .globalAveragePool: layers.append(GlobalAveragePool<Scalar>())
            case .flatten: if input.count == 3 { layers.append(Flatten<Scalar>()) }
            case .linear(let outputs):
                let isLast = index == placed.count - 1
                layers.append(Linear<Scalar>(
                    inputSize: input.reduce(1, *), outputSize: outputs, initialization: isLast ? .glorot : .he, using: &generator))
            case .activation(let activation): layers.append(makeActivationLayer(activation, scalar: Scalar.self))
            case .dropout(let p): layers.append(Dropout<Scalar>(probability: p))
            }
        }
        return Sequential(layers)
    }

    /// Checks, without building anything, that the network fits examples of `exampleShape` and
    /// `classCount` classes: every convolution and pooling gets an image its window fits, groups divide the
    /// channels, and no layer's parameters or one example's activations (or unfolded windows) exceed
    /// `sizeLimit` values.
    ///
    /// - Throws: `ArchitectureError` naming the first layer that does not fit.
    public func validate(exampleShape: [Int], classCount: Int) throws {
        _ = try placedLayers(exampleShape: exampleShape, classCount: classCount)
    }

    /// The number of weights (convolution filters and linear matrices, without biases and normalisation
    /// parameters) of the network for examples of `exampleShape` and `classCount` classes: a lower bound on
    /// the values a checkpoint of it holds.
    ///
    /// - Throws: `ArchitectureError` as `validate(exampleShape:classCount:)` does.
    public func weightCount(exampleShape: [Int], classCount: Int) throws -> Int {
        try placedLayers(exampleShape: exampleShape, classCount: classCount).reduce(0) { total, layer in
            switch layer.item {
            case let .convolution(outputs, kernel, _, _, _, groups, _):
                return total + outputs * (layer.input[0] / groups) * kernel * kernel
            case .linear(let outputs):
                return total + layer.input.reduce(1, *) * outputs
            default:
                return total
            }
        }
    }

    /// The values one example's forward pass holds (every layer's output, and the unfolded windows of each
    /// convolution) for examples of `exampleShape` and `classCount` classes: with the batch size, what a
    /// training step's activations take.
    ///
    /// - Throws: `ArchitectureError` as `validate(exampleShape:classCount:)` does.
    public func activationCount(exampleShape: [Int], classCount: Int) throws -> Int {
        try placedLayers(exampleShape: exampleShape, classCount: classCount).reduce(exampleShape.reduce(1, *)) { total, layer in
            var values = layer.output.reduce(1, *)
            if case let .convolution(_, kernel, _, _, _, _, _) = layer.item {
                values += layer.input[0] * kernel * kernel * layer.output[1] * layer.output[2]
            }
            return total + values
        }
    }

    private init(items: [Item]) { self.items = items }

    /// The most parameters, or values in one example's activation, a spec may ask for (2²⁸, 1 GB of float32
    /// each): beyond it the network would not fit in memory, and building it would fail on allocation.
    public static let sizeLimit = 1 << 28

    /// One layer of the spec (the classifier layer last) with the shape of one example before and after it.
    private struct PlacedLayer {
        var item: Item
        var input: [Int]
        var output: [Int]
    }

    /// Walks one example's shape through the layers, checking each fits and stays within `sizeLimit`.
    private func placedLayers(exampleShape: [Int], classCount: Int) throws -> [PlacedLayer] {
        guard exampleShape.allSatisfy({ $0 > 0 }), exampleShape.count == 1 || exampleShape.count == 3 else {
            throw ArchitectureError("examples must have a shape [features] or [channels, height, width], got \(exampleShape)")
        }
        guard classCount >= 2 else { throw ArchitectureError("a classifier needs at least two classes, got \(classCount)") }
        func describe(_ shape: [Int]) -> String { shape.count == 3 ? "\(shape[0])×\(shape[1])×\(shape[2])" : "\(shape[0]) features" }
        func count(_ factors: [Int]) -> Int {
            factors.reduce(1) { product, factor in
                let (next, overflow) = product.multipliedReportingOverflow(by: factor)
                return overflow ? Int.max : next
            }
        }
        var placed: [PlacedLayer] = []
        var shape = exampleShape, parameters = 0
        for (index, item) in (items + [.linear(outputs: classCount)]).enumerated() {
            let name = index < items.count ? "layer \(index + 1) (\(Self(items: [item]).description))" : "the classifier layer"
            func fail(_ why: String) -> ArchitectureError { ArchitectureError("\(name) \(why)") }
            func within(_ values: Int, _ what: String) throws {
                guard values <= Self.sizeLimit else {
                    throw fail("would need \(values) values for \(what), more than the \(Self.sizeLimit) this tool allows (the network would not fit in memory)")
                }
            }
            /// The output size of a square window over the current image.
            func windowOutput(_ kernel: Int, _ stride: Int, _ padding: Int, _ dilation: Int) throws -> (height: Int, width: Int) {
                guard shape.count == 3 else { throw fail("needs an image, but it gets \(describe(shape))") }
                let geometry = WindowGeometry(kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding), dilation: (dilation, dilation))
                guard let size = geometry.outputSize(height: shape[1], width: shape[2]) else {
                    throw fail("does not fit: a \(kernel)×\(kernel) window and a \(describe(shape)) image")
                }
                return size
            }
            let input = shape
            switch item {
            case let .convolution(outputs, kernel, stride, padding, dilation, groups, _):
                let size = try windowOutput(kernel, stride, padding, dilation)
                guard shape[0] % groups == 0, outputs % groups == 0 else {
                    throw fail("needs groups \(groups) to divide \(shape[0]) input and \(outputs) output channels")
                }
                let weights = count([outputs, shape[0] / groups, kernel, kernel])
                try within(weights, "its weights")
                try within(count([shape[0], kernel, kernel, size.height, size.width]), "one example's unfolded windows")
                parameters = parameters &+ weights
                shape = [outputs, size.height, size.width]
            case let .maxPool(kernel, stride, padding), let .averagePool(kernel, stride, padding):
                let size = try windowOutput(kernel, stride, padding, 1)
                shape = [shape[0], size.height, size.width]
            case .globalAveragePool:
                guard shape.count == 3 else { throw fail("needs an image, but it gets \(describe(shape))") }
                shape = [shape[0]]
            case .flatten:
                shape = [count(shape)]
            case .linear(let outputs):
                let weights = count([count(shape), outputs])
                try within(weights, "its weights")
                parameters = parameters &+ weights
                shape = [outputs]
            case .batchNorm, .activation, .dropout:
                break
            }
            try within(count(shape), "one example's output")
            try within(parameters, "the network's parameters up to here")
            placed.append(PlacedLayer(item: item, input: input, output: shape))
        }
        return placed
    }
}

/// A network spec that cannot be read or does not fit its input.
public struct ArchitectureError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, naming the layer.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
