/// The share of predictions equal to their labels, in [0, 1] (0 for no examples).
///
/// - Precondition: equal counts.
public func accuracy(predictions: [Int], labels: [Int]) -> Double {
    precondition(predictions.count == labels.count, "accuracy: \(predictions.count) predictions for \(labels.count) labels")
    guard !labels.isEmpty else { return 0 }
    return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
}

/// The index of the largest value in each row of `logits` (shape `[n, k]`): the predicted classes.
/// Ties go to the lowest index; NaN never wins over a number.
///
/// - Precondition: `logits` has rank 2 with at least one column.
public func predictedClasses<Scalar: TensorScalar>(_ logits: Tensor<Scalar>) -> [Int] {
    precondition(logits.rank == 2 && logits.shape[1] > 0, "predictedClasses: expected logits [n, k], got \(logits.shape)")
    let rows = logits.shape[0], columns = logits.shape[1]
    let values = logits.scalars
    return (0..<rows).map { row in
        var best = 0
        var bestValue = values[row * columns]
        for column in 1..<columns {
            let value = values[row * columns + column]
            if value > bestValue || (bestValue.isNaN && !value.isNaN) {
                best = column
                bestValue = value
            }
        }
        return best
    }
}

/// Counts of (true class, predicted class) pairs: row = true class, column = predicted class.
public struct ConfusionMatrix: Sendable, Equatable, CustomStringConvertible {
    /// `counts[trueClass][predictedClass]`.
    public private(set) var counts: [[Int]]

    /// The number of classes (rows and columns).
    public var classCount: Int { counts.count }

    /// Tallies predictions against labels.
    ///
    /// - Parameters:
    ///   - predictions: each example's predicted class.
    ///   - labels: each example's true class.
    ///   - classCount: the number of classes; nil means one more than the largest class seen.
    /// - Precondition: equal counts, all classes in `0..<classCount`.
    public init(predictions: [Int], labels: [Int], classCount: Int? = nil) {
        precondition(predictions.count == labels.count, "ConfusionMatrix: \(predictions.count) predictions for \(labels.count) labels")
        let size = classCount ?? ((predictions + labels).max() ?? -1) + 1
        counts = Array(repeating: Array(repeating: 0, count: size), count: size)
        for (predicted, actual) in zip(predictions, labels) {
            precondition(
                predicted >= 0 && predicted < size && actual >= 0 && actual < size,
                "ConfusionMatrix: class out of range 0..<\(size) (predicted \(predicted), true \(actual))")
            counts[actual][predicted] += 1
        }
    }

    /// A matrix from its counts (`counts[trueClass][predictedClass]`), for example tallies summed over
    /// workers that each counted a slice of the data.
    ///
    /// - Precondition: square, non-negative counts.
    public init(counts: [[Int]]) {
        precondition(counts.allSatisfy { $0.count == counts.count && $0.allSatisfy { $0 >= 0 } }, "ConfusionMatrix: counts must be square and non-negative")
        self.counts = counts
    }

    /// The number of examples counted.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The share of correct predictions (the diagonal), 0 when empty.
    public var accuracy: Double {
        total == 0 ? 0 : Double((0..<classCount).reduce(0) { $0 + counts[$1][$1] }) / Double(total)
    }

    /// For each class, the share of examples predicted as it that truly are it (nil if never predicted).
    public var precision: [Double?] {
        (0..<classCount).map { c in
            let predicted = (0..<classCount).reduce(0) { $0 + counts[$1][c] }
            return predicted == 0 ? nil : Double(counts[c][c]) / Double(predicted)
        }
    }

    /// For each class, the share of its examples predicted correctly (nil if the class never occurs).
    public var recall: [Double?] {
        (0..<classCount).map { c in
            let actual = counts[c].reduce(0, +)
            return actual == 0 ? nil : Double(counts[c][c]) / Double(actual)
        }
    }

    /// An aligned text table: one row per true class, one column per predicted class, then each
    /// class's recall and precision.
    public var description: String {
        let width = Swift.max(3, String(total).count, String(Swift.max(classCount - 1, 0)).count)
        func pad(_ text: String, _ size: Int) -> String { String(repeating: " ", count: Swift.max(0, size - text.count)) + text }
        func percent(_ value: Double?) -> String { value.map { String(Int(($0 * 100).rounded())) + "%" } ?? "-" }
        let labelWidth = Swift.max("true\\pred".count, String(classCount).count)
        var lines = [pad("true\\pred", labelWidth) + " " + (0..<classCount).map { pad(String($0), width) }.joined(separator: " ")
            + "  " + pad("recall", 6) + " " + pad("precision", 9)]
        let precisions = precision, recalls = recall
        for c in 0..<classCount {
            lines.append(
                pad(String(c), labelWidth) + " " + counts[c].map { pad(String($0), width) }.joined(separator: " ")
                    + "  " + pad(percent(recalls[c]), 6) + " " + pad(percent(precisions[c]), 9))
        }
        return lines.joined(separator: "\n")
    }
}
