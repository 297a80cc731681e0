// Why a derivative is not a finite number at a point: the first node whose value or local derivative is
// infinite or undefined there, in words.

import Foundation

extension Formula {
    /// A sentence naming the first node (in evaluation order) whose value or local derivative is not finite at
    /// `point` (one value per variable), and its input, or nil when every value and local derivative is finite.
    public func nonFiniteExplanation(at point: [Double]) -> String? {
        let values = withoutRecordingValues(at: point)
        let names = nodeNames
        for (index, node) in nodes.enumerated() where !node.inputs.isEmpty {
            let inputs = node.inputs.map { values[$0] }
            let inputText = zip(node.inputs, inputs).map { "\(names[$0]) = \(formatSignificant($1, digits: 6))" }.joined(separator: ", ")
            let what = "\(names[index]) = \(operationSymbol(index))"
            if !values[index].isFinite && inputs.allSatisfy(\.isFinite) {
                return "\(what) is \(formatSignificant(values[index])) at \(inputText): the formula itself is not finite there, so neither is its derivative"
            }
            let partials = node.operation.localPartials(inputs: inputs, output: values[index])
            if inputs.allSatisfy(\.isFinite), values[index].isFinite, let bad = partials.first(where: { !$0.isFinite }) {
                return "\(what) has local derivative \(formatSignificant(bad)) at \(inputText): its derivative does not exist (or is infinite) there"
            }
        }
        return nil
    }
}
