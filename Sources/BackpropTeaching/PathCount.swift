// Counting the input-to-output paths of a formula's graph: what lecture 004's "sum over paths of influence"
// would enumerate, computed by the O(edges) dynamic programme, exactly (the count grows exponentially).

/// A non-negative integer of any size, supporting only what path counting needs: addition and decimal printing.
public struct UnboundedCount: Equatable, Sendable, CustomStringConvertible {
    /// Base-10⁹ digits, least significant first; no trailing zero limbs except for zero itself (`[0]`).
    private var limbs: [UInt32]
    private static let base: UInt64 = 1_000_000_000

    /// The count `value`.
    public init(_ value: UInt32) {
        limbs = value < UInt32(Self.base) ? [value] : [value % UInt32(Self.base), value / UInt32(Self.base)]
    }

    /// The sum of two counts.
    public static func + (lhs: UnboundedCount, rhs: UnboundedCount) -> UnboundedCount {
        var result = UnboundedCount(0)
        result.limbs = []
        var carry: UInt64 = 0
        for index in 0..<max(lhs.limbs.count, rhs.limbs.count) {
            let sum = UInt64(index < lhs.limbs.count ? lhs.limbs[index] : 0)
                + UInt64(index < rhs.limbs.count ? rhs.limbs[index] : 0) + carry
            result.limbs.append(UInt32(sum % base))
            carry = sum / base
        }
        if carry > 0 { result.limbs.append(UInt32(carry)) }
        return result
    }

    /// Adds `rhs` to the count.
    public static func += (lhs: inout UnboundedCount, rhs: UnboundedCount) { lhs = lhs + rhs }

    /// The count in decimal.
    public var description: String {
        var text = String(limbs.last ?? 0)
        for limb in limbs.dropLast().reversed() {
            let digits = String(limb)
            text += String(repeating: "0", count: 9 - digits.count) + digits
        }
        return text
    }
}

/// The size of a formula's graph and how many input-to-output paths it has.
public struct GraphPaths: Sendable {
    /// The number of nodes (constants included).
    public let nodeCount: Int
    /// The number of edges; a node reading the same input twice contributes two.
    public let edgeCount: Int
    /// For each variable, in `Formula.variables` order, the number of paths from it to the result.
    public let pathsPerVariable: [UnboundedCount]
    /// The number of paths from any variable to the result: the terms a sum over paths of influence enumerates.
    public let totalPaths: UnboundedCount
}

extension Formula {
    /// Counts the graph's nodes, edges and variable-to-result paths in one backward sweep (O(nodes + edges)).
    public var paths: GraphPaths {
        var pathsToRoot = [UnboundedCount](repeating: UnboundedCount(0), count: nodes.count)
        pathsToRoot[root] = UnboundedCount(1)
        for index in nodes.indices.reversed() {
            for input in nodes[index].inputs { pathsToRoot[input] += pathsToRoot[index] }
        }
        var perVariable: [UnboundedCount] = []
        var total = UnboundedCount(0)
        for (index, node) in nodes.enumerated() {
            if case .variable = node.operation {
                perVariable.append(pathsToRoot[index])
                total += pathsToRoot[index]
            }
        }
        return GraphPaths(
            nodeCount: nodes.count, edgeCount: nodes.reduce(0) { $0 + $1.inputs.count },
            pathsPerVariable: perVariable, totalPaths: total)
    }
}
