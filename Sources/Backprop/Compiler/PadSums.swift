// Sums of pads as concatenations: the gradient of pieces sliced out of one tensor (a parameter's rows, an
// LSTM's gates) is each piece's gradient padded with zeros to the whole and the pads summed. When the pieces
// tile the whole without overlapping, that sum is their concatenation: written once, without filling
// whole-size buffers with zeros and adding them up. (Pieces that leave gaps stay pads: zeros in a gap would be
// a constant as large as the gap, read on every call.)

extension Graph {
    /// The graph with every sum of two or more pads along one axis, whose pieces tile the axis without
    /// overlapping, replaced by the concatenation of the pieces. A sum's inner additions must be read only by
    /// the sum; the pads become dead code when nothing else reads them.
    func withPadSumsAsConcatenations() -> Graph {
        let uses = useCounts()
        /// The pads a sum adds up (through inner additions of the same shape read only here), or nil.
        func pads(of id: Int32, isRoot: Bool) -> [Int32]? {
            let node = nodes[Int(id)]
            switch node.kind {
            case .pad:
                return [id]
            case .binary(.add) where isRoot || uses[Int(id)] == 1:
                guard node.inputs.allSatisfy({ nodes[Int($0)].shape == node.shape }),
                      let left = pads(of: node.inputs[0], isRoot: false), let right = pads(of: node.inputs[1], isRoot: false)
                else { return nil }
                return left + right
            default:
                return nil
            }
        }
        /// The pads' inputs in order along their axis, or nil when the pads differ in axis, overlap or leave a
        /// gap.
        func pieces(_ padIDs: [Int32]) -> (axis: Int, inputs: [Int32])? {
            guard case .pad(_, let axis) = nodes[Int(padIDs[0])].kind else { return nil }
            var regions: [(lower: Int, extent: Int, input: Int32)] = []
            for id in padIDs {
                guard case .pad(let lower, let padAxis) = nodes[Int(id)].kind, padAxis == axis else { return nil }
                let input = nodes[Int(id)].inputs[0]
                regions.append((lower, nodes[Int(input)].shape[axis], input))
            }
            regions.sort { $0.lower < $1.lower }
            var next = 0
            for region in regions {
                guard region.lower == next else { return nil }
                next += region.extent
            }
            guard next == nodes[Int(padIDs[0])].shape[axis] else { return nil }
            return (axis, regions.map(\.input))
        }
        return rewritten { i, node, rebuild in
            guard case .binary(.add) = node.kind, let padIDs = pads(of: Int32(i), isRoot: true), padIDs.count >= 2,
                  let (axis, inputs) = pieces(padIDs)
            else { return nil }
            return rebuild.append(TraceNode(
                kind: .concat(axis: axis), inputs: inputs.map { rebuild.new($0) }, shape: node.shape, replay: nil,
                constant: nil))
        }
    }
}
