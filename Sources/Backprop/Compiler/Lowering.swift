// Lowering: the optimised graph becomes a list of steps (fused kernels, matrix products, opaque primitives)
// over buffers with planned lifetimes.
import CBackpropKernels

/// A fused kernel as the lowering describes it, before it is laid out for the C interpreter.
struct KernelSpec {
    /// One instruction: destination = op(a, b) (an operand of -1 is unused), with an immediate.
    struct Instruction {
        var op: Int32
        var destination: Int32
        var a: Int32
        var b: Int32
        var immediate: Double
    }

    /// One output: the register written, where, and how (store or accumulate).
    struct Output {
        var access: Access
        var register: Int32
        var mode: Int32
    }

    /// A range of a buffer set to one value before the kernel runs (accumulated outputs, padding).
    struct Fill {
        var buffer: BufferReference
        var offset: Int
        var count: Int
        var value: Double
    }

    var shape: [Int]
    /// Register i reads input i through its access (strides over `shape`).
    var inputs: [Access] = []
    var instructions: [Instruction] = []
    var outputs: [Output] = []
    var fills: [Fill] = []
    var registerCount: Int32 = 0
}

/// A matrix product step: a batch of op(a)·op(b) into a contiguous output. Each operand's matrices are row-major
/// with a row stride (`lda`, `ldb`) at offsets from the access's (`batchOffsetsA`, `batchOffsetsB`, one per
/// product), so transposed views are read where they are.
struct MatmulSpec {
    var a: Access
    var b: Access
    var output: Access
    var batch: Int
    var m: Int
    var n: Int
    var k: Int
    var transposeA: Bool
    var transposeB: Bool
    var lda: Int
    var ldb: Int
    var batchOffsetsA: [Int]
    var batchOffsetsB: [Int]
    /// The output is `alpha`·op(a)·op(b) + `beta`·C, where C is `initial` (copied into the output first unless
    /// it is the output's own memory: a state tensor updated in place by a product, see `fusingUpdatesIntoProducts`).
    var alpha: Double = 1
    var beta: Double = 0
    var initial: Access? = nil
}

/// A primitive the compiler runs through its replay closure.
struct OpaqueSpec<Scalar: TensorScalar> {
    var inputs: [Access]
    var inputShapes: [[Int]]
    var replay: ([Tensor<Scalar>]) -> Tensor<Scalar>
    var slot: Int
    var name: String
    /// For a gather or scatter at positions chosen by values: the memo its call fills (emptied after each call).
    var memo: FlatRoutingMemo<Scalar>? = nil
}

/// One step of a program.
enum StepSpec<Scalar: TensorScalar> {
    case kernel(KernelSpec)
    case matmul(MatmulSpec)
    case opaque(OpaqueSpec<Scalar>)
}

extension StepSpec {
    /// The buffers the step reads (an accumulated output is read too).
    var readBuffers: [BufferReference] {
        switch self {
        case .kernel(let k):
            k.inputs.map(\.buffer) + k.outputs.filter { $0.mode != Int32(BP_FUSED_STORE) }.map(\.access.buffer)
        case .matmul(let m): [m.a.buffer, m.b.buffer] + (m.initial.map { [$0.buffer] } ?? [])
        case .opaque(let o): o.inputs.map(\.buffer)
        }
    }

    /// The buffers the step writes.
    var writtenBuffers: [BufferReference] {
        switch self {
        case .kernel(let k): k.outputs.map(\.access.buffer) + k.fills.map(\.buffer)
        case .matmul(let m): [m.output.buffer]
        case .opaque(let o): [.slot(o.slot)]
        }
    }

    /// The buffers the step reads or writes.
    var touchedBuffers: [BufferReference] { readBuffers + writtenBuffers }
}

/// The lowering of one graph.
///
/// Fusion by stages: every node gets a *stage*, the number of kernel boundaries on its longest path from the
/// arguments. An elementwise node (or a reduction) shares the stage of an input it can fuse with (same
/// iteration shape) and comes after the stage where any other input is ready; all elementwise nodes of one
/// iteration shape and one stage form one kernel (with as many outputs as other stages read). No path between
/// two nodes of a kernel leaves the kernel, so the program runs stage by stage, kernels and other steps in
/// node order within a stage. A pad of a kernel's value is another output of that kernel (written into a zero
/// buffer), and a sum with such a pad read nowhere else accumulates into the other term's buffer.
struct Lowering<Scalar: TensorScalar> {
    let graph: Graph<Scalar>
    /// Where each node's value can be read, once it is in memory (or a view of memory).
    private(set) var access: [Access?]
    /// Each node's cluster, or -1.
    private var clusterOf: [Int]
    private var clusters: [Cluster] = []
    private var clusterKeys: [ClusterKey: Int] = [:]
    /// Each node's stage, and the stage from which its value can be read by a node that does not fuse with it.
    private var stage: [Int]
    private var ready: [Int]
    /// How many nodes (and outputs) read each node, and which nodes do.
    private let uses: [Int]
    private let consumers: [[Int32]]
    private let isOutput: [Bool]
    /// Pads written by a kernel: the member whose value they hold, through a reshape when there is one.
    private var padWriters: [Int32: (member: Int32, reshape: Int32?)] = [:]
    /// Concatenations whose pieces kernels write in place: by piece, the member whose value it is.
    private var concatWriters: [Int32: [Int: (member: Int32, reshape: Int32?)]] = [:]
    /// Pieces of a concatenation that are themselves concatenations written in place into its memory (a
    /// parameter's rows made of gates): by concatenation, the pieces' indices, which it then does not copy.
    private var placedPieces: [Int32: Set<Int>] = [:]
    /// Sums lowered as an accumulation into another term's buffer: the pad and the other term.
    private var accumulations: [Int32: (pad: Int32, other: Int32)] = [:]
    /// Pads whose only reader is such an accumulation: their value is never stored anywhere.
    private var absorbedPads: Set<Int32> = []
    /// The steps in order.
    private var order: [StepSpec<Scalar>] = []
    /// The sizes (in scalars) of the arena allocations.
    private(set) var allocationSizes: [Int] = []
    /// The program's constants (by buffer index).
    private(set) var constants: [Tensor<Scalar>] = []
    private var constantBuffer: [Int32: Int] = [:]
    private(set) var slotCount = 0
    /// Slots the program fills with a new array of this many values at the start of every call (values
    /// the call returns or an opaque step reads whole: they are handed over as they are, never copied).
    private(set) var heapSlots: [(slot: Int, count: Int)] = []
    /// Nodes whose value lives in a heap slot when it is allocated (see `heapSlots`).
    private var heapValued: Set<Int32> = []

    private struct ClusterKey: Hashable {
        let shape: [Int]
        let stage: Int
    }

    /// `heapValues`: outputs and the values opaque steps read get heap slots instead of arena memory.
    init(_ graph: Graph<Scalar>, heapValues: Bool = false) {
        self.graph = graph
        let n = graph.nodes.count
        access = [Access?](repeating: nil, count: n)
        clusterOf = [Int](repeating: -1, count: n)
        stage = [Int](repeating: 0, count: n)
        ready = [Int](repeating: 0, count: n)
        uses = graph.useCounts()
        var consumers = [[Int32]](repeating: [], count: n)
        for (i, node) in graph.nodes.enumerated() { for input in node.inputs { consumers[Int(input)].append(Int32(i)) } }
        self.consumers = consumers
        var isOutput = [Bool](repeating: false, count: n)
        for output in graph.outputs { isOutput[Int(output)] = true }
        self.isOutput = isOutput
        if heapValues {
            // The node whose memory a value is, through reshapes (which alias contiguous memory).
            func base(_ id: Int32) -> Int32 {
                var id = id
                while case .reshape = graph.nodes[Int(id)].kind { id = graph.nodes[Int(id)].inputs[0] }
                return id
            }
            for output in graph.outputs { heapValued.insert(base(output)) }
            for node in graph.nodes {
                if case .opaque = node.kind { for input in node.inputs { heapValued.insert(base(input)) } }
            }
        }
    }

    /// Lowers the whole graph; returns the steps in order and the accesses of the outputs.
    mutating func lower() -> (steps: [StepSpec<Scalar>], outputs: [Access]) {
        for i in graph.nodes.indices { assignStage(Int32(i)) }
        allocateClusterValues()
        let schedule = graph.nodes.indices.sorted { stage[$0] != stage[$1] ? stage[$0] < stage[$1] : $0 < $1 }
        var remaining = clusters.map(\.members.count)
        for i in schedule {
            let id = Int32(i)
            if clusterOf[i] >= 0 {
                let c = clusterOf[i]
                remaining[c] -= 1
                if remaining[c] == 0 { order.append(.kernel(kernel(for: clusters[c]))) }
            } else {
                visit(id)
            }
        }
        let outputs = graph.outputs.map { materialised($0) }
        return (order, outputs)
    }

    // MARK: Stages and clusters

    private mutating func assignStage(_ id: Int32) {
        let i = Int(id)
        let node = graph.nodes[i]
        switch node.kind {
        case .argument, .constant:
            stage[i] = 0
            ready[i] = 0
        case .unary, .binary, .compare, .reluBackward:
            if case .binary(.add) = node.kind, accumulates(id) { return }
            var s = 0
            for input in node.inputs where !isScalarConstant(input) {
                s = Swift.max(s, fusable(input, into: node.shape) ? stage[Int(input)] : ready[Int(input)])
            }
            join(id, shape: node.shape, stage: s)
        case .sum, .max:
            let x = node.inputs[0], shape = graph.nodes[Int(x)].shape
            let s = fusable(x, into: shape) ? stage[Int(x)] : ready[Int(x)]
            join(id, shape: shape, stage: s)
            clusters[clusterOf[i]].reductions.insert(id)
        case .reshape, .broadcast, .transpose, .slice:
            stage[i] = ready[Int(node.inputs[0])]
            ready[i] = stage[i]
        case .pad:
            let (member, reshape) = padSource(node.inputs[0])
            if let member, fusable(member, into: graph.nodes[Int(member)].shape) {
                padWriters[id] = (member, reshape)
                stage[i] = stage[Int(member)]
                ready[i] = stage[i] + 1
                clusters[clusterOf[Int(member)]].writes.append(id)
            } else {
                stage[i] = ready[Int(node.inputs[0])]
                ready[i] = stage[i] + 1
            }
        case .concat:
            // A piece that is a kernel's member is stored by that kernel straight into its slice; the others are
            // copied in when the concatenation is visited.
            var s = 0
            var writers: [Int: (member: Int32, reshape: Int32?)] = [:]
            for (k, input) in node.inputs.enumerated() {
                let (member, reshape) = padSource(input)
                if let member, fusable(member, into: graph.nodes[Int(member)].shape) {
                    writers[k] = (member, reshape)
                    s = Swift.max(s, stage[Int(member)])
                } else {
                    s = Swift.max(s, ready[Int(input)])
                }
            }
            stage[i] = s
            ready[i] = s + 1
            if !writers.isEmpty {
                concatWriters[id] = writers
                for c in Set(writers.values.map { clusterOf[Int($0.member)] }) { clusters[c].writes.append(id) }
            }
        case .matmul, .opaque:
            stage[i] = node.inputs.map { ready[Int($0)] }.max() ?? 0
            ready[i] = stage[i] + 1
        }
    }

    /// Whether `input` can be computed inside a kernel iterating over `shape`: an elementwise node of that shape.
    private func fusable(_ input: Int32, into shape: [Int]) -> Bool {
        let c = clusterOf[Int(input)]
        return c >= 0 && !clusters[c].reductions.contains(input) && graph.nodes[Int(input)].shape == shape
    }

    /// Adds a node to the cluster of its iteration shape and stage (a new part when the last one is full).
    private mutating func join(_ id: Int32, shape: [Int], stage s: Int) {
        stage[Int(id)] = s
        ready[Int(id)] = s + 1
        let key = ClusterKey(shape: shape, stage: s)
        let external = graph.nodes[Int(id)].inputs.filter { clusterOf[Int($0)] < 0 || clusterOf[Int($0)] != clusterKeys[key] }
        if let c = clusterKeys[key], clusters[c].members.count < clusterMemberLimit,
           clusters[c].externalInputs.union(external).count <= clusterInputLimit
        {
            clusters[c].members.append(id)
            clusters[c].externalInputs.formUnion(external.filter { !isScalarConstant($0) })
            clusterOf[Int(id)] = c
            return
        }
        let c = clusters.count
        let cluster = Cluster(shape: shape, index: c)
        cluster.members.append(id)
        cluster.externalInputs.formUnion(external.filter { !isScalarConstant($0) })
        clusters.append(cluster)
        clusterKeys[key] = c
        clusterOf[Int(id)] = c
    }

    /// The elementwise member a pad's input is, directly or through a reshape that only the pad reads.
    private func padSource(_ input: Int32) -> (member: Int32?, reshape: Int32?) {
        if clusterOf[Int(input)] >= 0 { return (input, nil) }
        let node = graph.nodes[Int(input)]
        if case .reshape = node.kind, uses[Int(input)] == 1, clusterOf[Int(node.inputs[0])] >= 0 {
            return (node.inputs[0], input)
        }
        return (nil, nil)
    }

    /// A sum `a + pad(g)` whose pad is written by `g`'s kernel and read only here: lowered as an accumulation
    /// of `g` into `a`'s buffer by that kernel, when `a` is ready before the kernel runs (or the kernel writes it
    /// too) and nothing else reads `a`.
    private mutating func accumulates(_ id: Int32) -> Bool {
        let node = graph.nodes[Int(id)]
        guard node.inputs.count == 2, node.inputs[0] != node.inputs[1] else { return false }
        for (p, o) in [(0, 1), (1, 0)] {
            let pad = node.inputs[p], other = node.inputs[o]
            guard let writer = padWriters[pad], uses[Int(pad)] == 1,
                  graph.nodes[Int(other)].shape == node.shape, graph.nodes[Int(pad)].shape == node.shape,
                  uses[Int(other)] == 1, !isOutput[Int(other)]
            else { continue }
            let c = clusterOf[Int(writer.member)]
            let writtenHere = clusters[c].writes.contains(other)
            guard writtenHere || (isDonatable(other) && ready[Int(other)] <= stage[Int(writer.member)]) else { continue }
            accumulations[id] = (pad, other)
            absorbedPads.insert(pad)
            stage[Int(id)] = stage[Int(writer.member)]
            ready[Int(id)] = stage[Int(id)] + 1
            clusters[c].writes.append(id)
            return true
        }
        return false
    }

    /// Whether a node's value lives in an arena allocation of its own (so its buffer can become another's).
    private func isDonatable(_ id: Int32) -> Bool {
        switch graph.nodes[Int(id)].kind {
        case .unary, .binary, .compare, .reluBackward, .sum, .max, .pad, .concat, .matmul: true
        default: false
        }
    }

    /// Whether the node is a one-element constant, which kernels take as an immediate.
    private func isScalarConstant(_ id: Int32) -> Bool {
        let node = graph.nodes[Int(id)]
        if case .constant = node.kind { return node.shape.reduce(1, *) == 1 }
        return false
    }

    /// Allocations for what kernels store: members read outside their kernel, reductions, written pads.
    private mutating func allocateClusterValues() {
        for cluster in clusters {
            for member in cluster.members {
                let needed = isOutput[Int(member)] || cluster.reductions.contains(member)
                    || consumers[Int(member)].contains { !isInternal($0, of: member, cluster: cluster) }
                if needed {
                    cluster.materialised.insert(member)
                    let shape = graph.nodes[Int(member)].shape
                    if let permutation = transposedLayout(of: member, cluster: cluster) {
                        // Stored in the transpose's row-major layout: the transpose reads it as it is.
                        var inverse = permutation
                        for (axis, source) in permutation.enumerated() { inverse[source] = axis }
                        access[Int(member)] = allocate(permutation.map { shape[$0] }, for: member).transposed(inverse)
                    } else {
                        access[Int(member)] = allocate(shape, for: member)
                    }
                }
            }
            for write in cluster.writes where padWriters[write] != nil && !absorbedPads.contains(write) {
                access[Int(write)] = allocate(graph.nodes[Int(write)].shape, for: write)
            }
            // A concatenation that several kernels write is allocated once.
            for write in cluster.writes where concatWriters[write] != nil && access[Int(write)] == nil {
                access[Int(write)] = concatenationMemory(write)
            }
        }
    }

    /// The permutation whose layout a member is best stored in: that of its one transpose whose reader needs
    /// contiguous memory (a matrix product, a reshape, an opaque step), which would otherwise copy it, when the
    /// transpose keeps the last axis (so the kernel still stores whole rows) and every other reader outside the
    /// kernel is a kernel (which reads through strides). Nil otherwise: the member is stored row-major.
    private func transposedLayout(of member: Int32, cluster: Cluster) -> [Int]? {
        let rank = graph.nodes[Int(member)].shape.count
        guard rank >= 2, !isOutput[Int(member)], !cluster.reductions.contains(member) else { return nil }
        var permutation: [Int]?
        for consumer in consumers[Int(member)] where !isInternal(consumer, of: member, cluster: cluster) {
            switch graph.nodes[Int(consumer)].kind {
            case .transpose(let p):
                guard p.last == rank - 1, permutation == nil || permutation == p, !isOutput[Int(consumer)],
                      consumers[Int(consumer)].contains(where: { reader in
                          switch graph.nodes[Int(reader)].kind {
                          case .matmul, .reshape, .opaque: true
                          default: false
                          }
                      })
                else { return nil }
                permutation = p
            case .unary, .binary, .compare, .reluBackward, .sum, .max:
                guard clusterOf[Int(consumer)] >= 0 else { return nil }
            default:
                return nil
            }
        }
        return permutation
    }

    /// The memory of a concatenation that kernels write in place: its slice of the concatenation it is a piece
    /// of (directly or through a reshape, read only there), so that one copies nothing for it; else memory of
    /// its own.
    private mutating func concatenationMemory(_ id: Int32) -> Access {
        if let known = access[Int(id)] { return known }
        let shape = graph.nodes[Int(id)].shape
        if uses[Int(id)] == 1, !isOutput[Int(id)], let consumer = consumers[Int(id)].first {
            var piece = id, outer = consumer
            if case .reshape = graph.nodes[Int(consumer)].kind, uses[Int(consumer)] == 1, !isOutput[Int(consumer)],
               let next = consumers[Int(consumer)].first
            {
                piece = consumer
                outer = next
            }
            if case .concat(let axis) = graph.nodes[Int(outer)].kind, let k = graph.nodes[Int(outer)].inputs.firstIndex(of: piece) {
                let lower = graph.nodes[Int(outer)].inputs[..<k].reduce(0) { $0 + graph.nodes[Int($1)].shape[axis] }
                let slice = concatenationMemory(outer).sliced(lower: lower, axis: axis)
                if let placed = piece == id ? slice : slice.reshaped(from: graph.nodes[Int(piece)].shape, to: shape) {
                    placedPieces[outer, default: []].insert(k)
                    if piece != id { access[Int(piece)] = slice }
                    access[Int(id)] = placed
                    return placed
                }
            }
        }
        let own = allocate(shape, for: id)
        access[Int(id)] = own
        return own
    }

    /// Whether `consumer` reads `member` without needing it in memory: inside the kernel, or as the pad (or
    /// the reshape of the pad) the kernel writes from it.
    private func isInternal(_ consumer: Int32, of member: Int32, cluster: Cluster) -> Bool {
        if clusterOf[Int(consumer)] == cluster.index { return true }
        if let writer = padWriters[consumer], writer.member == member, writer.reshape == nil { return true }
        if let pad = consumers[Int(consumer)].first, consumers[Int(consumer)].count == 1,
           let writer = padWriters[pad], writer.reshape == consumer
        {
            return true
        }
        if let writers = concatWriters[consumer], writers.values.contains(where: { $0.member == member && $0.reshape == nil }),
           graph.nodes[Int(consumer)].inputs.enumerated().allSatisfy({ $0.element != member || writers[$0.offset] != nil })
        {
            return true
        }
        if let concat = consumers[Int(consumer)].first, consumers[Int(consumer)].count == 1,
           let writers = concatWriters[concat], writers.values.contains(where: { $0.reshape == consumer })
        {
            return true
        }
        return false
    }

    // MARK: Steps

    private mutating func visit(_ id: Int32) {
        let node = graph.nodes[Int(id)]
        switch node.kind {
        case .argument(let k):
            access[Int(id)] = .contiguous(.argument(k), shape: node.shape)
        case .constant:
            let index = constants.count
            constants.append(node.constant!)
            constantBuffer[id] = index
            access[Int(id)] = .contiguous(.constant(index), shape: node.shape)
        case .reshape:
            if padWriters.values.contains(where: { $0.reshape == id }) { return }
            if let concat = consumers[Int(id)].first, concatWriters[concat]?.values.contains(where: { $0.reshape == id }) == true {
                return
            }
            let input = node.inputs[0], from = graph.nodes[Int(input)].shape
            let base = materialised(input)
            access[Int(id)] = base.reshaped(from: from, to: node.shape)
                ?? copied(base, shape: from).reshaped(from: from, to: node.shape)
        case .broadcast:
            let input = node.inputs[0]
            access[Int(id)] = materialised(input).broadcast(from: graph.nodes[Int(input)].shape, to: node.shape)
        case .transpose(let permutation):
            access[Int(id)] = materialised(node.inputs[0]).transposed(permutation)
        case .slice(let lower, _, let axis):
            access[Int(id)] = materialised(node.inputs[0]).sliced(lower: lower, axis: axis)
        case .pad(let lower, let axis):
            if padWriters[id] != nil { return }
            let input = node.inputs[0], inputShape = graph.nodes[Int(input)].shape
            let source = materialised(input)
            let allocation = allocate(node.shape, for: id)
            var spec = copyKernel(from: source, shape: inputShape, to: allocation.sliced(lower: lower, axis: axis))
            spec.fills.insert(.init(buffer: allocation.buffer, offset: 0, count: node.shape.reduce(1, *), value: 0), at: 0)
            order.append(.kernel(spec))
            access[Int(id)] = allocation
        case .concat(let axis):
            // Pieces written by their kernels are in place already (see `concatWriters`); the others are copied.
            let writers = concatWriters[id] ?? [:]
            let allocation = access[Int(id)] ?? allocate(node.shape, for: id)
            var lower = 0
            for (k, input) in node.inputs.enumerated() {
                let inputShape = graph.nodes[Int(input)].shape
                if writers[k] == nil && placedPieces[id]?.contains(k) != true {
                    let source = materialised(input)
                    order.append(.kernel(copyKernel(from: source, shape: inputShape, to: allocation.sliced(lower: lower, axis: axis))))
                }
                lower += inputShape[axis]
            }
            access[Int(id)] = allocation
        case .matmul(let transposeA, let transposeB):
            lowerMatmul(id, node, transposeA: transposeA, transposeB: transposeB)
        case .opaque(let name):
            let inputs = node.inputs.map { materialised($0) }
            let slot = slotCount
            slotCount += 1
            order.append(.opaque(OpaqueSpec(
                inputs: inputs, inputShapes: node.inputs.map { graph.nodes[Int($0)].shape }, replay: node.replay!,
                slot: slot, name: name, memo: node.routing?.memo)))
            access[Int(id)] = .contiguous(.slot(slot), shape: node.shape)
        case .unary, .binary, .compare, .reluBackward, .sum, .max:
            // Members are lowered with their kernel; an accumulation's memory is set when its kernel is built.
            break
        }
    }

    /// Where the node's value is in memory (a member's allocation, a view's access, a constant's buffer).
    private mutating func materialised(_ id: Int32) -> Access {
        guard let a = access[Int(id)] else {
            preconditionFailure("compiled: \(graph.nodes[Int(id)].kind) read before it was computed")
        }
        return a
    }

    /// New memory for a value of `shape`: a heap slot for the node's value when it is returned or read by an
    /// opaque step, else an arena allocation.
    private mutating func allocate(_ shape: [Int], for id: Int32? = nil) -> Access {
        if let id, heapValued.contains(id), !shape.isEmpty {
            let slot = slotCount
            slotCount += 1
            heapSlots.append((slot, shape.reduce(1, *)))
            return .contiguous(.slot(slot), shape: shape)
        }
        allocationSizes.append(Swift.max(shape.reduce(1, *), 1))
        return .contiguous(.allocation(allocationSizes.count - 1), shape: shape)
    }

    /// The value of `shape` read through `source`, copied into a new contiguous allocation.
    private mutating func copied(_ source: Access, shape: [Int]) -> Access {
        let allocation = allocate(shape)
        order.append(.kernel(copyKernel(from: source, shape: shape, to: allocation)))
        return allocation
    }

    /// A kernel copying a value of `shape` from one access to another.
    private func copyKernel(from source: Access, shape: [Int], to target: Access) -> KernelSpec {
        var spec = KernelSpec(shape: shape)
        spec.inputs = [source]
        spec.outputs = [.init(access: target, register: 0, mode: Int32(BP_FUSED_STORE))]
        spec.registerCount = 1
        return spec
    }

    private mutating func lowerMatmul(_ id: Int32, _ node: TraceNode<Scalar>, transposeA: Bool, transposeB: Bool) {
        let a = node.inputs[0], b = node.inputs[1]
        let shapeA = graph.nodes[Int(a)].shape, shapeB = graph.nodes[Int(b)].shape
        let operandA = gemmOperand(a, shape: shapeA, transposed: transposeA)
        let operandB = gemmOperand(b, shape: shapeB, transposed: transposeB)
        let rank = node.shape.count
        let m = node.shape[rank - 2], n = node.shape[rank - 1]
        let k = transposeA ? shapeA[shapeA.count - 2] : shapeA[shapeA.count - 1]
        let output = allocate(node.shape, for: id)
        order.append(.matmul(MatmulSpec(
            a: operandA.access, b: operandB.access, output: output, batch: node.shape.dropLast(2).reduce(1, *), m: m, n: n,
            k: k, transposeA: operandA.transposed, transposeB: operandB.transposed, lda: operandA.rowStride,
            ldb: operandB.rowStride, batchOffsetsA: operandA.batchOffsets, batchOffsetsB: operandB.batchOffsets)))
        access[Int(id)] = output
    }

    /// How the GEMM reads a product's operand of `shape` (batch axes, then the matrix): in place when each
    /// matrix is row-major or column-major with a row stride of at least its width (a transposed view; a
    /// column-major one is read as the transpose of a row-major matrix, flipping `transposed`), each batch
    /// entry at its own offset; else from a contiguous copy.
    private mutating func gemmOperand(
        _ id: Int32, shape: [Int], transposed: Bool
    ) -> (access: Access, transposed: Bool, rowStride: Int, batchOffsets: [Int]) {
        var source = materialised(id)
        let rank = shape.count
        let rows = shape[rank - 2], columns = shape[rank - 1]
        var layout: (transposed: Bool, rowStride: Int)?
        let rowStride = source.strides[rank - 2], columnStride = source.strides[rank - 1]
        if columns == 1 || columnStride == 1, rows == 1 || rowStride >= columns {
            layout = (transposed, rows == 1 ? Swift.max(columns, 1) : rowStride)
        } else if rows == 1 || rowStride == 1, columnStride >= rows {
            layout = (!transposed, columns == 1 ? Swift.max(rows, 1) : columnStride)
        }
        if layout == nil {
            source = copied(source, shape: shape)
            layout = (transposed, Swift.max(columns, 1))
        }
        var offsets: [Int] = []
        forEachStridedOffset(Array(shape.dropLast(2)), Array(source.strides.dropLast(2))) { _, offset in offsets.append(offset) }
        return (source, layout!.transposed, layout!.rowStride, offsets)
    }

    // MARK: Building a cluster's kernel

    /// The kernel of a cluster: one instruction per elementwise member, its external inputs as input
    /// registers, its materialised members as outputs (reductions accumulate), then the pads it writes and the
    /// accumulations into other buffers, in node order.
    private mutating func kernel(for cluster: Cluster) -> KernelSpec {
        var spec = KernelSpec(shape: cluster.shape)
        var register: [Int32: Int32] = [:]
        var constantRegisters: [UInt64: Int32] = [:]
        var next: Int32 = 0
        for member in cluster.members {
            for input in graph.nodes[Int(member)].inputs where clusterOf[Int(input)] != cluster.index {
                if isScalarConstant(input) || register[input] != nil { continue }
                register[input] = next
                next += 1
                let inputShape = graph.nodes[Int(input)].shape
                spec.inputs.append(materialised(input).broadcast(from: inputShape, to: cluster.shape))
            }
        }
        func operand(_ input: Int32) -> Int32 {
            if let r = register[input] { return r }
            // A one-element constant: an immediate in a scalar register.
            let value = Double(graph.nodes[Int(input)].constant!.withScalarBuffer { $0[0] })
            if let r = constantRegisters[value.bitPattern] { return r }
            let r = next
            next += 1
            spec.instructions.append(.init(op: Int32(BP_FUSED_CONSTANT), destination: r, a: -1, b: -1, immediate: value))
            constantRegisters[value.bitPattern] = r
            return r
        }
        for member in cluster.members {
            let node = graph.nodes[Int(member)]
            let op: Int32
            switch node.kind {
            case .unary(let code), .binary(let code): op = code.rawValue
            case .compare(let comparison): op = comparison.opcode
            case .reluBackward: op = Int32(BP_FUSED_RELU_BACKWARD)
            case .sum(let axes), .max(let axes):
                // Accumulate the input into the reduced output: stride 0 along the reduced axes.
                let isSum: Bool
                if case .sum = node.kind { isSum = true } else { isSum = false }
                var keptShape = cluster.shape
                for axis in axes { keptShape[axis] = 1 }
                let kept = contiguousStrides(keptShape)
                let strides = cluster.shape.indices.map { axes.contains($0) ? 0 : kept[$0] }
                let target = access[Int(member)]!
                spec.outputs.append(.init(
                    access: Access(buffer: target.buffer, offset: target.offset, strides: strides),
                    register: operand(node.inputs[0]),
                    mode: Int32(isSum ? BP_FUSED_ACCUMULATE_SUM : BP_FUSED_ACCUMULATE_MAX)))
                spec.fills.append(.init(
                    buffer: target.buffer, offset: target.offset, count: keptShape.reduce(1, *),
                    value: isSum ? 0 : -Double.infinity))
                continue
            default: preconditionFailure("compiled: \(node.kind) in a fused kernel")
            }
            let a = operand(node.inputs[0])
            let b = node.inputs.count > 1 ? operand(node.inputs[1]) : -1
            let destination = next
            next += 1
            spec.instructions.append(.init(op: op, destination: destination, a: a, b: b, immediate: 0))
            register[member] = destination
            if cluster.materialised.contains(member) {
                spec.outputs.append(.init(access: access[Int(member)]!, register: destination, mode: Int32(BP_FUSED_STORE)))
            }
        }
        for write in cluster.writes.sorted() {
            if let writers = concatWriters[write], case .concat(let axis) = graph.nodes[Int(write)].kind {
                // The concatenation's pieces this kernel computes, stored into their slices.
                let target = access[Int(write)]!
                var lower = 0
                for (k, input) in graph.nodes[Int(write)].inputs.enumerated() {
                    if let writer = writers[k], clusterOf[Int(writer.member)] == cluster.index {
                        spec.outputs.append(.init(
                            access: region(of: target.sliced(lower: lower, axis: axis), through: writer),
                            register: register[writer.member]!, mode: Int32(BP_FUSED_STORE)))
                    }
                    lower += graph.nodes[Int(input)].shape[axis]
                }
            } else if let writer = padWriters[write] {
                // A pad: zeros, then the member stored into its slice (unless an accumulation takes its place).
                if absorbedPads.contains(write) { continue }
                guard case .pad(let lower, let axis) = graph.nodes[Int(write)].kind else { continue }
                let target = access[Int(write)]!
                spec.fills.append(.init(buffer: target.buffer, offset: target.offset, count: graph.nodes[Int(write)].shape.reduce(1, *), value: 0))
                spec.outputs.append(.init(
                    access: region(of: target.sliced(lower: lower, axis: axis), through: writer),
                    register: register[writer.member]!, mode: Int32(BP_FUSED_STORE)))
            } else if let (pad, other) = accumulations[write], let writer = padWriters[pad],
                      case .pad(let lower, let axis) = graph.nodes[Int(pad)].kind
            {
                // An accumulation: the member added into the pad's slice of the other term's buffer.
                let target = materialised(other)
                access[Int(write)] = target
                spec.outputs.append(.init(
                    access: region(of: target.sliced(lower: lower, axis: axis), through: writer),
                    register: register[writer.member]!, mode: Int32(BP_FUSED_ACCUMULATE_SUM)))
            }
        }
        spec.registerCount = next
        return spec
    }

    /// The access of a pad's slice for the member that fills it (through the pad input's reshape if any).
    private func region(of slice: Access, through writer: (member: Int32, reshape: Int32?)) -> Access {
        guard let reshape = writer.reshape else { return slice }
        let from = graph.nodes[Int(reshape)].shape, to = graph.nodes[Int(writer.member)].shape
        guard let mapped = slice.reshaped(from: from, to: to) else {
            preconditionFailure("compiled: a pad's slice cannot be read with the shape \(to)")
        }
        return mapped
    }
}

extension Comparison {
    /// The interpreter's operation for the comparison.
    var opcode: Int32 {
        switch self {
        case .less: Int32(BP_FUSED_LT)
        case .lessOrEqual: Int32(BP_FUSED_LE)
        case .greater: Int32(BP_FUSED_GT)
        case .greaterOrEqual: Int32(BP_FUSED_GE)
        case .equal: Int32(BP_FUSED_EQ)
        case .notEqual: Int32(BP_FUSED_NE)
        }
    }
}
