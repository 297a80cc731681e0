/// An error reading, writing or applying a checkpoint, with a message saying what is wrong.
public struct CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, naming the tensor, file or field involved.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
