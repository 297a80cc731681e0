/// Marks a stored property's tensors as buffers: saved in checkpoints under the property's name, as
/// PyTorch's `register_buffer` does, but not trained (not among `parameters`, so neither differentiated
/// nor updated by optimizers).
///
/// ```swift
/// struct Scaled: Layer {
///     var linear = Linear<Float>(inputSize: 4, outputSize: 2, seed: 0)
///     @Buffer var scale = Tensor<Float>.ones(shape: [2])   // saved as "scale", never trained
///     func callAsFunction(_ x: Tensor<Float>, context: ForwardContext) -> Tensor<Float> { linear(x) * scale }
/// }
/// ```
@propertyWrapper
public struct Buffer<Value> {
    /// The wrapped value: a tensor, or anything holding tensors.
    public var wrappedValue: Value

    /// Wraps a value.
    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }
}

extension Buffer: Sendable where Value: Sendable {}

/// Lets reflection recognise `Buffer` of any value type.
protocol BufferWrapper {}

extension Buffer: BufferWrapper {}
