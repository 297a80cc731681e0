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

/// A matrix product step: a batch of op(a)·op(b) from contiguous operands into a contiguous output.
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
}

/// A primitive the compiler runs through its replay closure.
struct OpaqueSpec<Scalar: TensorScalar> {
    var inputs: [Access]
    var inputShapes: [[Int]]
    var replay: ([Tensor<Scalar>]) -> Tensor<Scalar>
    var slot: Int
    var name: String
}

/// One step of a program.
enum StepSpec<Scalar: TensorScalar> {
    case kernel(KernelSpec)
    case matmul(MatmulSpec)
    case opaque(OpaqueSpec<Scalar>)
}

/// The lowering of one graph: visits the nodes in order, grows clusters, and emits steps.
struct Lowering<Scalar: TensorScalar> {
    let graph: Graph<Scalar>
    /// Where each node's value can be read, once it is in memory (or a view of memory).
    private(set) var access: [Access?]
    /// Each node's cluster, or -1.
    private var clusterOf: [Int]
    private var clusters: [Cluster] = []
    /// Steps in order; a cluster's step is a placeholder until the kernels are built.
    private var order: [PlannedStep] = []
    /// The sizes (in scalars) of the arena allocations.
    private(set) var allocationSizes: [Int] = []
    /// The program's constants (by buffer index).
    private(set) var constants: [Tensor<Scalar>] = []
    private var constantBuffer: [Int32: Int] = [:]
    private(set) var slotCount = 0
    /// How many nodes (and outputs) read each node, and the one node that does when only one does.
    private let uses: [Int]
    private var soleConsumer: [Int32]
    /// Nodes whose value in memory is complete only once this cluster's kernel has run (it writes part of it).
    private var pendingCluster: [Int32: Int] = [:]
    /// Pads whose only reader adds them to something: lowered there, as an accumulation into a slice.
    private var deferredPads: Set<Int32> = []

    private enum PlannedStep {
        case cluster(Int)
        case step(StepSpec<Scalar>)
    }

    init(_ graph: Graph<Scalar>) {
        self.graph = graph
        access = [Access?](repeating: nil, count: graph.nodes.count)
        clusterOf = [Int](repeating: -1, count: graph.nodes.count)
        uses = graph.useCounts()
        soleConsumer = [Int32](repeating: -1, count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() {
            for input in node.inputs where uses[Int(input)] == 1 { soleConsumer[Int(input)] = Int32(i) }
        }
        for output in graph.outputs { soleConsumer[Int(output)] = -1 }
    }

    /// Lowers the whole graph; returns the steps in order and the accesses of the outputs.
    mutating func lower() -> (steps: [StepSpec<Scalar>], outputs: [Access]) {
        for i in graph.nodes.indices { visit(Int32(i)) }
        let outputs = graph.outputs.map { materialised($0) }
        // Clusters that nothing outside read run in the order they were opened, after everything they read.
        for (index, cluster) in clusters.enumerated() where !cluster.isSealed {
            cluster.isSealed = true
            order.append(.cluster(index))
        }
        let steps = order.map { planned -> StepSpec<Scalar> in
            switch planned {
            case .cluster(let index): .kernel(kernel(for: clusters[index]))
            case .step(let step): step
            }
        }
        return (steps, outputs)
    }

    // MARK: Visiting nodes

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
        case .binary(.add) where accumulatesAPad(id, node):
            break
        case .unary, .binary, .compare, .reluBackward:
            join(id, shape: node.shape, reading: node.inputs)
        case .sum, .max:
            join(id, shape: graph.nodes[Int(node.inputs[0])].shape, reading: node.inputs, reduction: true)
        case .reshape:
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
        case .pad:
            let consumer = soleConsumer[Int(id)]
            if consumer >= 0, case .binary(.add) = graph.nodes[Int(consumer)].kind,
               graph.nodes[Int(consumer)].inputs.allSatisfy({ graph.nodes[Int($0)].shape == node.shape })
            {
                deferredPads.insert(id)
            } else {
                lowerPad(id)
            }
        case .concat(let axis):
            let allocation = allocate(node.shape)
            var lower = 0
            for input in node.inputs {
                let inputShape = graph.nodes[Int(input)].shape
                let source = materialised(input)
                order.append(.step(.kernel(copyKernel(from: source, shape: inputShape, to: allocation.sliced(lower: lower, axis: axis)))))
                lower += inputShape[axis]
            }
            access[Int(id)] = allocation
        case .matmul(let transposeA, let transposeB):
            lowerMatmul(id, node, transposeA: transposeA, transposeB: transposeB)
        case .opaque(let name):
            let inputs = node.inputs.map { materialised($0) }
            let slot = slotCount
            slotCount += 1
            order.append(.step(.opaque(OpaqueSpec(
                inputs: inputs, inputShapes: node.inputs.map { graph.nodes[Int($0)].shape }, replay: node.replay!,
                slot: slot, name: name))))
            access[Int(id)] = .contiguous(.slot(slot), shape: node.shape)
        }
    }

    /// Adds an elementwise node or a reduction to a cluster iterating over `shape`: the open cluster of one
    /// of its inputs when there is one, else a new one. Inputs from elsewhere are materialised.
    private mutating func join(_ id: Int32, shape: [Int], reading inputs: [Int32], reduction: Bool = false) {
        // The latest open cluster of an input that iterates over `shape`, where the input is a value the
        // kernel has (not a reduction, whose value exists only at the end).
        var chosen = -1
        for input in inputs {
            let c = clusterOf[Int(input)]
            guard c >= 0, c > chosen else { continue }
            let cluster = clusters[c]
            // No input may be one of the cluster's reductions: their values exist only once it has run.
            if !cluster.isSealed && cluster.shape == shape && !inputs.contains(where: { cluster.reductions.contains($0) })
                && cluster.members.count < clusterMemberLimit && cluster.externalInputs.count < clusterInputLimit
            {
                chosen = c
            }
        }
        if chosen < 0 {
            chosen = clusters.count
            clusters.append(Cluster(shape: shape, index: chosen))
        }
        let cluster = clusters[chosen]
        for input in inputs where clusterOf[Int(input)] != chosen {
            if isScalarConstant(input) { continue }
            _ = materialised(input)
            cluster.externalInputs.insert(input)
        }
        cluster.members.append(id)
        clusterOf[Int(id)] = chosen
        if reduction {
            cluster.reductions.insert(id)
            cluster.materialised.insert(id)
            access[Int(id)] = allocate(graph.nodes[Int(id)].shape)
        }
    }

    /// Whether the node is a one-element constant, which kernels take as an immediate.
    private func isScalarConstant(_ id: Int32) -> Bool {
        let node = graph.nodes[Int(id)]
        if case .constant = node.kind { return node.shape.reduce(1, *) == 1 }
        return false
    }

    /// Where the node's value is in memory, materialising a cluster member (and closing its cluster, so the
    /// kernel runs before the reader).
    private mutating func materialised(_ id: Int32) -> Access {
        if deferredPads.contains(id) {
            deferredPads.remove(id)
            lowerPad(id)
        }
        if let c = pendingCluster.removeValue(forKey: id), !clusters[c].isSealed {
            clusters[c].isSealed = true
            order.append(.cluster(c))
        }
        let c = clusterOf[Int(id)]
        if c >= 0 {
            let cluster = clusters[c]
            if !cluster.materialised.contains(id) {
                cluster.materialised.insert(id)
                access[Int(id)] = allocate(graph.nodes[Int(id)].shape)
            }
            if !cluster.isSealed {
                cluster.isSealed = true
                order.append(.cluster(c))
            }
        }
        return access[Int(id)]!
    }

    /// Lowers a pad: a zero buffer whose slice holds the input, written by the input's kernel when it can.
    private mutating func lowerPad(_ id: Int32) {
        let node = graph.nodes[Int(id)]
        guard case .pad(let lower, let axis) = node.kind else { return }
        let allocation = allocate(node.shape)
        let fill = KernelSpec.Fill(buffer: allocation.buffer, offset: 0, count: node.shape.reduce(1, *), value: 0)
        write(node.inputs[0], into: allocation.sliced(lower: lower, axis: axis), mode: Int32(BP_FUSED_STORE), fills: [fill], for: id)
        access[Int(id)] = allocation
    }

    /// `a + pad(g)` where the pad is read only here: `a`'s buffer (or a copy of it) with `g` accumulated into
    /// the pad's slice, by `g`'s kernel when it can. Returns false when the node is not of that form.
    private mutating func accumulatesAPad(_ id: Int32, _ node: TraceNode<Scalar>) -> Bool {
        guard let padIndex = node.inputs.firstIndex(where: { deferredPads.contains($0) }) else { return false }
        let pad = node.inputs[padIndex], other = node.inputs[1 - padIndex]
        guard pad != other, case .pad(let lower, let axis) = graph.nodes[Int(pad)].kind else { return false }
        deferredPads.remove(pad)
        let target: Access
        if isDonatable(other) {
            // The other term is read only here: accumulate into its own buffer.
            target = materialised(other)
        } else {
            let source = materialised(other)
            target = allocate(node.shape)
            order.append(.step(.kernel(copyKernel(from: source, shape: node.shape, to: target))))
        }
        write(graph.nodes[Int(pad)].inputs[0], into: target.sliced(lower: lower, axis: axis),
              mode: Int32(BP_FUSED_ACCUMULATE_SUM), fills: [], for: id)
        access[Int(id)] = target
        return true
    }

    /// Whether a node's buffer may become another node's: an arena allocation holding exactly the value, that
    /// nothing else reads (and that is not a result of the program).
    private mutating func isDonatable(_ id: Int32) -> Bool {
        guard uses[Int(id)] == 1, soleConsumer[Int(id)] >= 0 else { return false }
        if deferredPads.contains(id) { return true }
        let shape = graph.nodes[Int(id)].shape
        if let a = access[Int(id)] {
            guard case .allocation = a.buffer else { return false }
            return a.offset == 0 && a.isContiguous(shape: shape)
        }
        // A cluster member gets a fresh allocation when it is materialised.
        return clusterOf[Int(id)] >= 0 && !clusters[clusterOf[Int(id)]].reductions.contains(id)
    }

    /// Writes `value` into `target` (a view with `value`'s shape) by `mode`, after `fills`, as an extra output of
    /// `value`'s open kernel when it has one (then `node`'s memory is complete once that kernel has run), else
    /// by a kernel of its own now.
    private mutating func write(_ value: Int32, into target: Access, mode: Int32, fills: [KernelSpec.Fill], for node: Int32) {
        let c = clusterOf[Int(value)]
        if c >= 0, !clusters[c].isSealed, !clusters[c].reductions.contains(value),
           clusters[c].shape == graph.nodes[Int(value)].shape
        {
            clusters[c].extraOutputs.append((value, target, mode))
            clusters[c].extraFills += fills
            pendingCluster[node] = c
            return
        }
        let shape = graph.nodes[Int(value)].shape
        var spec = copyKernel(from: materialised(value), shape: shape, to: target)
        spec.outputs[0].mode = mode
        spec.fills = fills
        order.append(.step(.kernel(spec)))
    }

    /// A new arena allocation for a value of `shape`.
    private mutating func allocate(_ shape: [Int]) -> Access {
        allocationSizes.append(Swift.max(shape.reduce(1, *), 1))
        return .contiguous(.allocation(allocationSizes.count - 1), shape: shape)
    }

    /// The value of `shape` read through `source`, copied into a new contiguous allocation.
    private mutating func copied(_ source: Access, shape: [Int]) -> Access {
        let allocation = allocate(shape)
        order.append(.step(.kernel(copyKernel(from: source, shape: shape, to: allocation))))
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
        var accessA = materialised(a), accessB = materialised(b)
        if !accessA.isContiguous(shape: shapeA) { accessA = copied(accessA, shape: shapeA) }
        if !accessB.isContiguous(shape: shapeB) { accessB = copied(accessB, shape: shapeB) }
        let rank = node.shape.count
        let m = node.shape[rank - 2], n = node.shape[rank - 1]
        let k = transposeA ? shapeA[shapeA.count - 2] : shapeA[shapeA.count - 1]
        let output = allocate(node.shape)
        order.append(.step(.matmul(MatmulSpec(
            a: accessA, b: accessB, output: output, batch: node.shape.dropLast(2).reduce(1, *), m: m, n: n, k: k,
            transposeA: transposeA, transposeB: transposeB))))
        access[Int(id)] = output
    }

    // MARK: Building a cluster's kernel

    /// The kernel of a cluster: one instruction per elementwise member, its external inputs as input
    /// registers, its materialised members as outputs (reductions accumulate).
    private func kernel(for cluster: Cluster) -> KernelSpec {
        var spec = KernelSpec(shape: cluster.shape)
        var register: [Int32: Int32] = [:]
        var constantRegisters: [UInt64: Int32] = [:]
        var next: Int32 = 0
        // Inputs first: registers 0..<inputs.
        var external: [Int32] = []
        for member in cluster.members {
            for input in graph.nodes[Int(member)].inputs where clusterOf[Int(input)] != cluster.index {
                if isScalarConstant(input) || register[input] != nil { continue }
                register[input] = next
                next += 1
                external.append(input)
                let inputShape = graph.nodes[Int(input)].shape
                spec.inputs.append(access[Int(input)]!.broadcast(from: inputShape, to: cluster.shape))
            }
        }
        func operand(_ input: Int32) -> Int32 {
            if let r = register[input] { return r }
            // A one-element constant: an immediate in a scalar register.
            let value = Double(constants[constantBuffer[input]!].withScalarBuffer { $0[0] })
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
        for extra in cluster.extraOutputs {
            spec.outputs.append(.init(access: extra.access, register: register[extra.member]!, mode: extra.mode))
        }
        spec.fills = cluster.extraFills + spec.fills
        spec.registerCount = next
        return spec
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
