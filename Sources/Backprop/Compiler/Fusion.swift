// Fusion: which nodes run together in one kernel of the tile interpreter, and which values are materialised.
//
// Nodes are visited in execution order. An elementwise node joins the open cluster of one of its inputs when
// that cluster iterates over the node's own shape; a reduction joins the cluster of its input the same way, as
// an output that accumulates. A cluster's kernel runs where its last member is, so a cluster is closed
// ("sealed") as soon as a node outside it reads one of its members: that member is then materialised (an
// output of the kernel) and the kernel runs before the reader. Reshapes, broadcasts, transposes and slices
// of materialised values are strided accesses, never copies.

/// Nodes that run together in one fused kernel over one iteration space.
final class Cluster {
    /// The iteration space: every elementwise member has this shape, every reduction member's input too.
    let shape: [Int]
    /// The members, in execution order.
    var members: [Int32] = []
    /// Members whose values are needed outside the kernel (stored into memory).
    var materialised: Set<Int32> = []
    /// Members that are reductions: their values exist only once the kernel has run.
    var reductions: Set<Int32> = []
    /// No node may join any more: something outside already reads a member.
    var isSealed = false
    /// The external inputs read so far (for the kernel's operand limit).
    var externalInputs: Set<Int32> = []
    /// The cluster's index among the lowering's clusters.
    let index: Int
    /// Pads the kernel writes, and sums it accumulates into another term's buffer (nodes outside the
    /// members whose memory the kernel writes).
    var writes: [Int32] = []

    init(shape: [Int], index: Int) {
        self.shape = shape
        self.index = index
    }
}

/// The most members and external inputs a cluster takes (the interpreter's register and operand limits).
let clusterMemberLimit = 160
let clusterInputLimit = 48

extension TraceNode {
    /// Whether the node is an elementwise function the interpreter runs (with broadcasting).
    var isElementwise: Bool {
        switch kind {
        case .unary, .binary, .compare, .reluBackward: true
        default: false
        }
    }

    /// Whether the node reduces along axes (a sum or a maximum).
    var isReduction: Bool {
        switch kind {
        case .sum, .max: true
        default: false
        }
    }

    /// Whether the node is a strided view of its input (no computation, no memory).
    var isView: Bool {
        switch kind {
        case .reshape, .broadcast, .transpose, .slice: true
        default: false
        }
    }
}
