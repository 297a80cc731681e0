/// Fixed-length windows of a token sequence, for training a language model: each window's characters are
/// the inputs and the same characters shifted by one are the targets (the next character at every position).
///
/// An epoch visits every window of the text once, in a seeded order: the windows follow each other without
/// overlap from a seeded offset in `0..<context`, so over epochs every position starts a window.
public struct TextWindows: Sendable {
    /// The token indices of the text.
    public let tokens: [UInt16]
    /// The characters in a window (the model's context length).
    public let context: Int

    /// Creates the windows of `tokens`.
    ///
    /// - Precondition: `context > 0` and the text holds at least one window (`context + 1` tokens).
    public init(tokens: [UInt16], context: Int) {
        precondition(context > 0, "TextWindows: context must be positive, got \(context)")
        precondition(tokens.count > context, "TextWindows: \(tokens.count) tokens hold no window of \(context) and its target")
        self.tokens = tokens
        self.context = context
    }

    /// The first positions of epoch `epoch`'s windows, in the epoch's order.
    public func epochStarts(epoch: Int, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        let offset = Int(generator.next() % UInt64(Swift.min(context, tokens.count - context)))
        let count = (tokens.count - 1 - offset) / context
        let order = seededPermutation(count: count, seed: generator.next())
        return order.map { offset + $0 * context }
    }

    /// The windows of epoch `epoch` grouped into batches of `batchSize` (a last smaller batch is dropped,
    /// unless it is the only one).
    public func batches(epoch: Int, batchSize: Int, seed: UInt64) -> [[Int]] {
        precondition(batchSize > 0, "TextWindows.batches: batchSize must be positive, got \(batchSize)")
        let starts = epochStarts(epoch: epoch, seed: seed)
        let full = starts.count / batchSize
        guard full > 0 else { return [starts] }
        return (0..<full).map { Array(starts[($0 * batchSize)..<(($0 + 1) * batchSize)]) }
    }

    /// Up to `limit` windows that do not overlap, from the start of the text (spread evenly over it when there
    /// are more): the windows an evaluation reads.
    public func evaluationStarts(limit: Int = 2048) -> [Int] {
        let count = (tokens.count - 1) / context
        guard count > limit else { return (0..<count).map { $0 * context } }
        return (0..<limit).map { ($0 * count / limit) * context }
    }

    /// The inputs and targets of the windows starting at `starts`: two `[starts.count · context]` arrays of
    /// token indices, row-major `[batch, context]`.
    public func batch(startingAt starts: [Int]) -> (inputs: [Int], targets: [Int]) {
        var inputs: [Int] = [], targets: [Int] = []
        inputs.reserveCapacity(starts.count * context)
        targets.reserveCapacity(starts.count * context)
        for start in starts {
            precondition(start >= 0 && start + context < tokens.count, "TextWindows.batch: window at \(start) runs past the text")
            for k in start..<(start + context) {
                inputs.append(Int(tokens[k]))
                targets.append(Int(tokens[k + 1]))
            }
        }
        return (inputs, targets)
    }
}
