/// Training stopped because something it computed was not finite (NaN or infinite): a batch's loss or
/// gradient (that batch's update was then not applied), or, after an epoch's last update, a parameter or the
/// held-out loss. The epoch was not completed (nor recorded in the history), so a checkpoint written after
/// the last completed epoch holds finite values only.
public struct TrainingDiverged: Error, CustomStringConvertible, Sendable {
    /// What was found not finite.
    public enum Cause: String, Sendable {
        /// A batch's loss, before its update.
        case loss
        /// A gradient of a batch whose loss was finite, before its update.
        case gradient
        /// A parameter or buffer, after the epoch's last update (whose loss and gradients were finite).
        case parameters
        /// The loss on the held-out examples after the epoch.
        case testLoss = "test_loss"
    }

    /// The epoch that diverged, from 1.
    public var epoch: Int
    /// The batch of that epoch whose loss or gradient was not finite, from 1; the last batch for `.parameters`
    /// and `.testLoss`.
    public var batch: Int
    /// Batches in an epoch.
    public var batches: Int
    /// That batch's loss (NaN or infinite when the loss is what diverged), or the held-out loss for `.testLoss`.
    public var loss: Double
    /// What was not finite.
    public var cause: Cause

    /// Whether the loss was finite and a gradient was not.
    public var gradientDiverged: Bool { cause == .gradient }

    /// One sentence: where and what.
    public var description: String {
        switch cause {
        case .loss: return "training diverged at epoch \(epoch), batch \(batch) of \(batches): the loss is \(loss)"
        case .gradient:
            return "training diverged at epoch \(epoch), batch \(batch) of \(batches): a gradient is not finite (the loss was \(loss))"
        case .parameters:
            return "training diverged at epoch \(epoch): after its last update (batch \(batch) of \(batches)) a weight is not finite"
        case .testLoss: return "training diverged at epoch \(epoch): the held-out loss after it is \(loss)"
        }
    }
}

/// Whether every element of every tensor is finite.
///
/// A loop summing `x − x` (0 for finite values, NaN otherwise) in eight independent sums, specialised for Float
/// and Double: the key-path form it replaces went through generic metadata lookups per element, 15% of a CNN's
/// training step.
@_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
func allFinite<Scalar: TensorScalar>(_ tensors: [Tensor<Scalar>]) -> Bool {
    for tensor in tensors {
        let finite = tensor.withUnsafeScalars { values -> Bool in
            // Eight independent sums: one sum is a chain of dependent additions, a few cycles per value.
            var lanes = (Scalar(0), Scalar(0), Scalar(0), Scalar(0), Scalar(0), Scalar(0), Scalar(0), Scalar(0))
            let n = values.count
            var i = 0
            while i + 8 <= n {
                lanes.0 += values[i] - values[i]
                lanes.1 += values[i + 1] - values[i + 1]
                lanes.2 += values[i + 2] - values[i + 2]
                lanes.3 += values[i + 3] - values[i + 3]
                lanes.4 += values[i + 4] - values[i + 4]
                lanes.5 += values[i + 5] - values[i + 5]
                lanes.6 += values[i + 6] - values[i + 6]
                lanes.7 += values[i + 7] - values[i + 7]
                i += 8
            }
            while i < n {
                lanes.0 += values[i] - values[i]
                i += 1
            }
            return (lanes.0 + lanes.1) + (lanes.2 + lanes.3) + (lanes.4 + lanes.5) + (lanes.6 + lanes.7) == 0
        }
        if !finite { return false }
    }
    return true
}
