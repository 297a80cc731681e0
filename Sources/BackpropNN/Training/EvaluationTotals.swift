/// A classifier's results on a whole data set, in a form that adds up over workers that each evaluated a
/// slice: the mean loss and the confusion matrix (from which the accuracy and correct count follow).
public struct EvaluationTotals: Sendable, Equatable {
    /// The mean softmax cross-entropy over the set.
    public var loss: Double
    /// Counts of (true class, predicted class) pairs over the set.
    public var confusion: ConfusionMatrix

    /// Creates totals from a mean loss and a confusion matrix.
    public init(loss: Double, confusion: ConfusionMatrix) {
        self.loss = loss
        self.confusion = confusion
    }

    /// The number of examples evaluated.
    public var count: Int { confusion.total }
    /// How many were classified correctly.
    public var correct: Int { (0..<confusion.classCount).reduce(0) { $0 + confusion.counts[$1][$1] } }
    /// The fraction classified correctly (0 for no examples).
    public var accuracy: Double { confusion.accuracy }
}
