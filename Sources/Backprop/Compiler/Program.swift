// A lowered program laid out for replay: kernels in the C interpreter's layout, a memory plan over one arena,
// and a loop over steps that does no reference counting, closure call or allocation per fused kernel or product.
import CBackpropKernels

/// Memory the program owns: a typed buffer freed with its owner.
final class OwnedBuffer<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(_ values: [Element]) {
        count = values.count
        pointer = .allocate(capacity: Swift.max(count, 1))
        if count > 0 { pointer.initialize(from: values, count: count) }
    }

    init(uninitialized count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
    }

    deinit { pointer.deallocate() }
}

/// A fused kernel ready to run: the C description and the buffers behind its arrays.
final class KernelStep<Scalar: TensorScalar>: @unchecked Sendable {
    let spec: KernelSpec
    /// The C description (its arrays point into the buffers below).
    let kernel: OwnedBuffer<bp_fused_kernel>
    private let arrays: [AnyObject]
    /// Base pointers of the inputs and outputs, patched before each run.
    let inputBases: OwnedBuffer<UnsafePointer<Scalar>?>
    let outputBases: OwnedBuffer<UnsafeMutablePointer<Scalar>?>
    /// Rows of the iteration space, the row length, and how the work splits across threads.
    let rows: Int
    let length: Int
    let parts: Int
    let splitsColumns: Bool
    /// When split by rows, each part's rows are a multiple of this many (a block of the outermost axis).
    let rowBlock: Int

    init(_ spec: KernelSpec, tableIndex: (BufferReference) -> Int32) {
        self.spec = spec
        // Collapse the iteration space: drop axes of size 1, merge neighbours every operand reads in order.
        let strideLists = spec.inputs.map(\.strides) + spec.outputs.map(\.access.strides)
        var axes: [(size: Int, strides: [Int])] = spec.shape.indices.compactMap { axis in
            spec.shape[axis] == 1 ? nil : (spec.shape[axis], strideLists.map { $0[axis] })
        }
        var merged: [(size: Int, strides: [Int])] = []
        for axis in axes {
            if let last = merged.last, zip(last.strides, axis.strides).allSatisfy({ $0 == $1 * axis.size }) {
                merged[merged.count - 1] = (last.size * axis.size, axis.strides)
            } else {
                merged.append(axis)
            }
        }
        if merged.isEmpty { merged = [(1, strideLists.map { _ in 0 })] }
        axes = merged
        // How the work splits across threads, when there is enough of it, so that no two parts accumulate into
        // one output element: by rows when every accumulated output moves along every outer axis; by columns
        // (of every row) when each moves along the row; else by blocks of an outer axis along which each moves,
        // made the outermost axis.
        let accumulated = spec.outputs.indices.filter { spec.outputs[$0].mode != Int32(BP_FUSED_STORE) }
            .map { spec.inputs.count + $0 }
        let total = axes.reduce(1) { $0 * $1.size }
        let outer = axes.dropLast().indices
        let threads = gemmThreadCount
        var split = (parts: 1, columns: false, rowBlock: 1)
        if total >= elementwiseParallelThreshold && threads > 1 {
            let length = axes[axes.count - 1].size, rows = total / length
            if accumulated.allSatisfy({ j in outer.allSatisfy { axes[$0].strides[j] != 0 } }) && rows >= threads {
                split = (threads, false, 1)
            } else if accumulated.allSatisfy({ axes[axes.count - 1].strides[$0] != 0 }) && length >= threads * Int(BP_FUSED_TILE) {
                split = (threads, true, 1)
            } else if let axis = outer.first(where: { a in
                axes[a].size >= threads && accumulated.allSatisfy { axes[a].strides[$0] != 0 }
            }) {
                axes.insert(axes.remove(at: axis), at: 0)
                split = (threads, false, rows / axes[0].size)
            }
        }
        let rank = axes.count
        let shape = axes.map(\.size)
        let operandStrides = (0..<strideLists.count).map { j in axes.map { $0.strides[j] } }
        let inputCount = spec.inputs.count, outputCount = spec.outputs.count
        precondition(inputCount <= Int(BP_FUSED_MAX_OPERANDS) && outputCount <= Int(BP_FUSED_MAX_OPERANDS)
                     && spec.registerCount <= Int32(BP_FUSED_MAX_REGISTERS) && rank <= Int(BP_FUSED_MAX_RANK),
                     "compiled: a fused kernel exceeds the interpreter's limits")
        let shapeBuffer = OwnedBuffer(shape)
        let inputOffsets = OwnedBuffer(spec.inputs.map(\.offset))
        let inputStrides = OwnedBuffer(operandStrides[0..<inputCount].flatMap { $0 })
        let outputOffsets = OwnedBuffer(spec.outputs.map(\.access.offset))
        let outputStrides = OwnedBuffer(operandStrides[inputCount...].flatMap { $0 })
        let outputRegisters = OwnedBuffer(spec.outputs.map { Int32($0.register) })
        let outputModes = OwnedBuffer(spec.outputs.map { Int32($0.mode) })
        let instructions = OwnedBuffer(spec.instructions.map {
            bp_fused_instruction(op: $0.op, destination: $0.destination, a: $0.a, b: $0.b, immediate: $0.immediate)
        })
        let inputBuffers = OwnedBuffer(spec.inputs.map { tableIndex($0.buffer) })
        let outputBuffers = OwnedBuffer(spec.outputs.map { tableIndex($0.access.buffer) })
        let fillBuffers = OwnedBuffer(spec.fills.map { tableIndex($0.buffer) })
        let fillOffsets = OwnedBuffer(spec.fills.map(\.offset))
        let fillCounts = OwnedBuffer(spec.fills.map(\.count))
        let fillValues = OwnedBuffer(spec.fills.map(\.value))
        arrays = [shapeBuffer, inputOffsets, inputStrides, outputOffsets, outputStrides, outputRegisters, outputModes,
                  instructions, inputBuffers, outputBuffers, fillBuffers, fillOffsets, fillCounts, fillValues]
        kernel = OwnedBuffer([bp_fused_kernel(
            rank: rank, shape: shapeBuffer.pointer, input_count: inputCount, input_offsets: inputOffsets.pointer,
            input_strides: inputStrides.pointer, output_count: outputCount, output_offsets: outputOffsets.pointer,
            output_strides: outputStrides.pointer, output_registers: outputRegisters.pointer,
            output_modes: outputModes.pointer, instruction_count: spec.instructions.count,
            instructions: instructions.pointer, register_count: Int(spec.registerCount),
            input_buffers: inputBuffers.pointer, output_buffers: outputBuffers.pointer,
            fill_count: spec.fills.count, fill_buffers: fillBuffers.pointer, fill_offsets: fillOffsets.pointer,
            fill_counts: fillCounts.pointer, fill_values: fillValues.pointer)])
        inputBases = OwnedBuffer(uninitialized: inputCount)
        outputBases = OwnedBuffer(uninitialized: outputCount)
        length = shape[rank - 1]
        rows = shape.dropLast().reduce(1, *)
        (parts, splitsColumns, rowBlock) = split
    }

    /// Values of scratch one part needs.
    var scratchCount: Int { Int(spec.registerCount) * Int(BP_FUSED_TILE) }
}

/// A matrix product ready to run.
struct MatmulStep {
    let spec: MatmulSpec
}

/// A lowered program with its memory plan.
final class Program<Scalar: TensorScalar>: @unchecked Sendable {
    /// One step of the replay loop.
    enum Step {
        /// Fused kernels that run one after another on the calling thread, in one C call.
        case sequence(OwnedBuffer<UnsafePointer<bp_fused_kernel>?>, [KernelStep<Scalar>])
        /// A fused kernel split across threads.
        case parallel(KernelStep<Scalar>)
        case matmul(MatmulSpec)
        case opaque(OpaqueSpec<Scalar>)
    }

    let steps: [Step]
    let outputs: [Access]
    let outputShapes: [[Int]]
    let constants: [OwnedBuffer<Scalar>]
    /// The constants as tensors, handed to opaque steps that read one whole.
    let constantTensors: [Tensor<Scalar>]
    /// When during a call each slot's array is made (the heap slots of `Lowering.heapSlots`) and dropped.
    let slotLifetimes: SlotLifetimes
    /// The memos of the gathers and scatters at positions chosen by values: a call fills them and empties them
    /// at its end, so that no call's values stay alive between calls.
    let routingMemos: [FlatRoutingMemo<Scalar>]
    let slotCount: Int
    let argumentCount: Int
    /// The offset of each allocation in the arena, and the arena's size.
    let allocationOffsets: [Int]
    /// The number of values of each allocation.
    let allocationSizes: [Int]
    let arenaSize: Int
    /// The most scratch any kernel needs per part.
    let scratchPerPart: Int
    /// How many kernels and instructions the program runs (for reports).
    let kernelCount: Int
    let instructionCount: Int
    /// Arenas not in use by a call (a call takes one, or makes one when all are busy).
    private var idleArenas: [Arena<Scalar>] = []
    private let arenaLock = ArenaLock()

    /// The outputs a call may write into the memory of the argument of the same index (see `donations`).
    let donations: [(argument: Int, slot: Int)]

    /// `heapValues`: the outputs and the values opaque steps read are new arrays of each call, returned and
    /// read without copies (a scan's body, run many times per call, keeps them in the arena instead).
    /// `stateCount`: the first arguments are state that the first outputs update (`compiled(updating:)`).
    init(graph: Graph<Scalar>, heapValues: Bool = false, stateCount: Int = 0) {
        var lowering = Lowering(graph, heapValues: heapValues)
        let lowered = lowering.lower()
        var specs = lowered.steps
        let outputs = lowered.outputs
        constantTensors = lowering.constants
        self.outputs = outputs
        outputShapes = graph.outputs.map { graph.nodes[Int($0)].shape }
        donations = heapValues && stateCount > 0
            ? Backprop.donations(specs: &specs, outputs: outputs, outputShapes: outputShapes, heapSlots: lowering.heapSlots, count: stateCount)
            : []
        fusingUpdatesIntoProducts(specs: &specs, donations: donations)
        constants = lowering.constants.map { OwnedBuffer($0.shape.isEmpty ? [$0.scalarValue] : $0.storage) }
        slotCount = lowering.slotCount
        argumentCount = graph.argumentCount
        let (na, nc, nalloc) = (graph.argumentCount, lowering.constants.count, lowering.allocationSizes.count)
        func tableIndex(_ buffer: BufferReference) -> Int32 {
            switch buffer {
            case .argument(let k): Int32(k)
            case .constant(let c): Int32(na + c)
            case .allocation(let a): Int32(na + nc + a)
            case .slot(let s): Int32(na + nc + nalloc + s)
            }
        }
        var steps: [Step] = []
        var pending: [KernelStep<Scalar>] = []
        func flush() {
            guard !pending.isEmpty else { return }
            steps.append(.sequence(OwnedBuffer(pending.map { UnsafePointer($0.kernel.pointer) }), pending))
            pending = []
        }
        var kernels = 0, instructions = 0
        for spec in specs {
            switch spec {
            case .kernel(let k):
                let step = KernelStep<Scalar>(k, tableIndex: tableIndex)
                kernels += 1
                instructions += k.instructions.count
                if step.parts > 1 {
                    flush()
                    steps.append(.parallel(step))
                } else {
                    pending.append(step)
                }
            case .matmul(let m):
                flush()
                steps.append(.matmul(m))
            case .opaque(let o):
                flush()
                steps.append(.opaque(o))
            }
        }
        flush()
        self.steps = steps
        var memos: [ObjectIdentifier: FlatRoutingMemo<Scalar>] = [:]
        for case .opaque(let o) in specs { if let memo = o.memo { memos[ObjectIdentifier(memo)] = memo } }
        routingMemos = Array(memos.values)
        slotLifetimes = SlotLifetimes(
            stepCount: steps.count, touched: { Program.touchedBuffers(steps[$0]) }, heapSlots: lowering.heapSlots, outputs: outputs)
        kernelCount = kernels
        instructionCount = instructions
        scratchPerPart = specs.reduce(0) { best, spec in
            if case .kernel(let k) = spec { return Swift.max(best, Int(k.registerCount) * Int(BP_FUSED_TILE)) }
            return best
        }
        allocationSizes = lowering.allocationSizes
        (allocationOffsets, arenaSize) = Program.plan(sizes: lowering.allocationSizes, steps: specs, outputs: outputs)
    }

    /// The buffers a step reads or writes.
    fileprivate static func touchedBuffers(_ step: Step) -> [BufferReference] {
        switch step {
        case .sequence(_, let kernels): kernels.flatMap { StepSpec<Scalar>.kernel($0.spec).touchedBuffers }
        case .parallel(let k): StepSpec<Scalar>.kernel(k.spec).touchedBuffers
        case .matmul(let m): StepSpec<Scalar>.matmul(m).touchedBuffers
        case .opaque(let o): StepSpec<Scalar>.opaque(o).touchedBuffers
        }
    }

    /// One line saying what a step does (for `BACKPROP_DEBUG_COMPILE`).
    func describe(_ step: Step) -> String {
        func kernel(_ k: KernelStep<Scalar>) -> String {
            "kernel \(k.spec.shape) -> rows \(k.rows) x \(k.length), \(k.spec.instructions.count) instructions, "
                + "\(k.spec.inputs.count) in, \(k.spec.outputs.count) out"
                + (k.parts > 1 ? ", \(k.parts) parts by \(k.splitsColumns ? "columns" : "rows")" : "")
        }
        switch step {
        case .sequence(_, let kernels): return "sequence of \(kernels.count): " + kernels.map(kernel).joined(separator: "; ")
        case .parallel(let k): return kernel(k)
        case .matmul(let m):
            return "matmul \(m.batch) x [\(m.m), \(m.k)]\(m.transposeA ? "ᵀ" : "") [\(m.k), \(m.n)]\(m.transposeB ? "ᵀ" : "")"
                + (m.beta != 0 ? ", times \(m.alpha) added to its output" : "")
        case .opaque(let o): return "\(o.name) \(o.inputShapes.map { "\($0)" }.joined(separator: " "))"
        }
    }

    /// The table entry of a buffer: arguments, then constants, then allocations, then slots.
    private func tableIndex(_ buffer: BufferReference) -> Int {
        switch buffer {
        case .argument(let k): k
        case .constant(let c): argumentCount + c
        case .allocation(let a): argumentCount + constants.count + a
        case .slot(let s): argumentCount + constants.count + allocationOffsets.count + s
        }
    }

    /// A new arena with its table: constants and allocations filled in, arguments and slots per call.
    private func makeArena() -> Arena<Scalar> {
        let arena = Arena<Scalar>(
            size: arenaSize, scratch: scratchPerPart * gemmThreadCount,
            tableCount: argumentCount + constants.count + allocationOffsets.count + slotCount)
        for (c, constant) in constants.enumerated() { arena.table[argumentCount + c] = constant.pointer }
        for (a, offset) in allocationOffsets.enumerated() {
            arena.table[argumentCount + constants.count + a] = arena.base + offset
        }
        return arena
    }
    /// Offsets for the allocations such that two allocations whose lifetimes overlap never overlap in
    /// memory. A lifetime runs from the first step that writes the allocation to the last that reads it (the
    /// outputs are read after the last step). Allocations are placed in order of their first write, each at the
    /// lowest offset where it fits among the live ones; offsets are multiples of 16 values (64 bytes for floats).
    static func plan(sizes: [Int], steps: [StepSpec<Scalar>], outputs: [Access]) -> ([Int], Int) {
        var first = [Int](repeating: Int.max, count: sizes.count)
        var last = [Int](repeating: -1, count: sizes.count)
        func touch(_ buffer: BufferReference, _ step: Int) {
            guard case .allocation(let a) = buffer else { return }
            first[a] = Swift.min(first[a], step)
            last[a] = Swift.max(last[a], step)
        }
        for (s, step) in steps.enumerated() { step.touchedBuffers.forEach { touch($0, s) } }
        outputs.forEach { touch($0.buffer, steps.count) }
        let order = sizes.indices.filter { first[$0] != Int.max }.sorted { first[$0] < first[$1] }
        var offsets = [Int](repeating: 0, count: sizes.count)
        // Free gaps below the top, sorted by offset; live allocations by the step after which they are free.
        var gaps: [(offset: Int, size: Int)] = []
        var expiring = MinimumHeap()
        var top = 0
        func release(_ offset: Int, _ size: Int) {
            // Insert the gap in order and merge it with its neighbours; a gap at the top lowers the top.
            var low = 0, high = gaps.count
            while low < high {
                let mid = (low + high) / 2
                if gaps[mid].offset < offset { low = mid + 1 } else { high = mid }
            }
            var gap = (offset: offset, size: size)
            if low < gaps.count && gap.offset + gap.size == gaps[low].offset {
                gap.size += gaps[low].size
                gaps.remove(at: low)
            }
            if low > 0 && gaps[low - 1].offset + gaps[low - 1].size == gap.offset {
                gap = (gaps[low - 1].offset, gaps[low - 1].size + gap.size)
                gaps.remove(at: low - 1)
                low -= 1
            }
            if gap.offset + gap.size == top { top = gap.offset } else { gaps.insert(gap, at: low) }
        }
        var total = 0
        for a in order {
            while let (until, allocation) = expiring.peek(), until < first[a] {
                expiring.pop()
                release(offsets[allocation], (sizes[allocation] + 15) / 16 * 16)
            }
            let size = (sizes[a] + 15) / 16 * 16
            if let g = gaps.firstIndex(where: { $0.size >= size }) {
                offsets[a] = gaps[g].offset
                if gaps[g].size == size { gaps.remove(at: g) } else { gaps[g] = (gaps[g].offset + size, gaps[g].size - size) }
            } else {
                offsets[a] = top
                top += size
            }
            total = Swift.max(total, top)
            expiring.push(last[a], a)
        }
        return (offsets, total)
    }

    /// Runs the program on arguments of the shapes it was compiled for. `donated`: by slot of `donations`, the
    /// tensor (of one axis) whose storage the slot's output is written into, which the caller owns alone.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func run(_ arguments: [Tensor<Scalar>], donated: [Int: Tensor<Scalar>] = [:]) -> [Tensor<Scalar>] {
        let arena = arenaLock.withLock { idleArenas.popLast() } ?? makeArena()
        defer { arenaLock.withLock { idleArenas.append(arena) } }
        var slots = [Tensor<Scalar>?](repeating: nil, count: slotCount)
        // Scalar arguments and scalar slot values live in the tensor itself, not in a buffer: the arena's cells
        // hold copies.
        let argumentArrays = arguments.map { $0.shape.isEmpty ? [] : $0.storage }
        let table = arena.table
        return withExtendedLifetime(argumentArrays) {
            for (k, argument) in arguments.enumerated() {
                if argument.shape.isEmpty {
                    arena.cells[k] = argument.scalarValue
                    table[k] = arena.cells + k
                } else {
                    table[k] = UnsafeMutablePointer(mutating: argumentArrays[k].withUnsafeBufferPointer { $0.baseAddress! })
                }
            }
            execute(arena: arena, slots: &slots, arguments: arguments, donated: donated)
            for memo in routingMemos { memo.forget() }
            return zip(outputs, outputShapes).map { access, shape in
                tensor(at: access, shape: shape, table: table, slots: slots, arguments: arguments)
            }
        }
    }


    /// Runs the steps with the arguments' entries of the arena's table already set.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    private func execute(
        arena: Arena<Scalar>, slots: inout [Tensor<Scalar>?], arguments: [Tensor<Scalar>], donated: [Int: Tensor<Scalar>] = [:]
    ) {
        let table = arena.table
        func make(_ made: [(slot: Int, count: Int)]) {
            for (slot, count) in made {
                if let state = donated[slot] {
                    slots[slot] = state
                    table[tableIndex(.slot(slot))] = UnsafeMutablePointer(mutating: state.storage.withUnsafeBufferPointer { $0.baseAddress! })
                    continue
                }
                let (values, base) = Self.uninitializedArray(count)
                slots[slot] = Tensor(shape: [count], buffer: values)
                table[tableIndex(.slot(slot))] = base
            }
        }
        make(slotLifetimes.madeFirst)
        for (index, step) in steps.enumerated() {
            make(slotLifetimes.made[index])
            defer {
                for slot in slotLifetimes.dropped[index] {
                    slots[slot] = nil
                    table[tableIndex(.slot(slot))] = nil
                }
            }
            switch step {
            case .sequence(let kernels, _):
                runSequence(kernels, table: table, scratch: arena.scratch)
            case .parallel(let k):
                runParallel(k, table: table, scratch: arena.scratch)
            case .matmul(let m):
                let c = table[tableIndex(m.output.buffer)]! + m.output.offset
                if let initial = m.initial {
                    // C starts as `initial`, unless it is that memory already (a state tensor donated to the call).
                    let source = table[tableIndex(initial.buffer)]! + initial.offset
                    if source != c { c.update(from: source, count: m.batch * m.m * m.n) }
                }
                runMatmul(m, a: table[tableIndex(m.a.buffer)]! + m.a.offset, b: table[tableIndex(m.b.buffer)]! + m.b.offset, c: c)
            case .opaque(let o):
                let inputs = zip(o.inputs, o.inputShapes).map { access, shape in
                    tensor(at: access, shape: shape, table: table, slots: slots, arguments: arguments)
                }
                var result = withoutRecording { o.replay(inputs) }.detached()
                if !donated.isEmpty, donated.values.contains(where: { result.hasSameStorage(as: $0) }) {
                    // A primitive that returned its input, a state tensor a later step overwrites: a copy of it.
                    result = Tensor(shape: result.shape, buffer: result.storage.map { $0 })
                }
                slots[o.slot] = result
                let entry = tableIndex(.slot(o.slot))
                if result.shape.isEmpty {
                    arena.cells[argumentCount + o.slot] = result.scalarValue
                    table[entry] = arena.cells + argumentCount + o.slot
                } else {
                    table[entry] = UnsafeMutablePointer(mutating: result.storage.withUnsafeBufferPointer { $0.baseAddress! })
                }
            }
        }
    }

    /// Runs the program `steps` times as a scan's body: arguments (carry, one step of each x, the rest), outputs
    /// (next carry, the step's outputs). The carry moves between two buffers and each step's x is read in place,
    /// so a step allocates nothing; returns the final carry and the outputs stacked over the steps.
    ///
    /// `reversed` runs the steps from the last to the first: step t reads position `count - 1 - t` of the xs and
    /// writes its outputs and carry there (a reverse sweep, without reversing the arrays first). The history (the
    /// carry going into each step, which a forward scan keeps for its pullback) is empty unless `keepsHistory`.
    @_specialize(where Scalar == Double) @_specialize(where Scalar == Float)
    func loop(
        steps count: Int, initial: [Tensor<Scalar>], xs: [Tensor<Scalar>], rest: [Tensor<Scalar>], reversed: Bool = false,
        keepsHistory: Bool = true
    ) -> (carry: [Tensor<Scalar>], ys: [Tensor<Scalar>], history: [Tensor<Scalar>]) {
        let carryCount = initial.count
        let carryShapes = initial.map(\.shape), yShapes = Array(outputShapes[carryCount...])
        let carrySizes = carryShapes.map { $0.reduce(1, *) }, ySizes = yShapes.map { $0.reduce(1, *) }
        let xSizes = xs.map { Array($0.shape.dropFirst()).reduce(1, *) }
        let arena = arenaLock.withLock { idleArenas.popLast() } ?? makeArena()
        defer { arenaLock.withLock { idleArenas.append(arena) } }
        // Two buffers per carry tensor, swapped after each step, and the stacked outputs.
        let carryBuffers = (0..<2).map { _ in carrySizes.map { UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max($0, 1)) } }
        defer { carryBuffers.joined().forEach { $0.deallocate() } }
        for (i, value) in initial.enumerated() {
            value.withScalarBuffer { carryBuffers[0][i].update(from: $0.baseAddress!, count: carrySizes[i]) }
        }
        // The stacked outputs and the history: the arrays returned, written through their base pointers worked
        // out once (a step then costs no array access, reference count or shape arithmetic per output, and the
        // arrays need no copy at the end). Every step writes its row, so every value is written.
        let stackedArrays = ySizes.map { Self.uninitializedArray($0 * count) }
        let historyArrays = !keepsHistory ? [] : carrySizes.map { Self.uninitializedArray($0 * count) }
        let stacked = stackedArrays.map(\.base), history = historyArrays.map(\.base)
        let table = arena.table
        let outputShapesInOrder = carryShapes + yShapes
        let plans = outputs.enumerated().map { k, access in
            (entry: tableIndex(access.buffer), offset: access.offset, count: outputShapesInOrder[k].reduce(1, *),
             contiguous: access.isContiguous(shape: outputShapesInOrder[k]))
        }
        func store(_ k: Int, into target: UnsafeMutablePointer<Scalar>) {
            let plan = plans[k]
            if plan.contiguous {
                target.update(from: table[plan.entry]! + plan.offset, count: plan.count)
            } else {
                copy(outputs[k], shape: outputShapesInOrder[k], table: table, into: target)
            }
        }
        // An output that is the whole of one arena allocation, and the only output there, is computed straight
        // into its destination (the next carry's buffer, the step's row of the stacked outputs): the allocation's
        // table entry points there during the step, and back into the arena after the loop.
        var allocationUses: [Int: Int] = [:]
        for access in outputs { if case .allocation(let a) = access.buffer { allocationUses[a, default: 0] += 1 } }
        let direct: [Int?] = outputs.indices.map { k in
            guard case .allocation(let a) = outputs[k].buffer, allocationUses[a] == 1, plans[k].offset == 0,
                  plans[k].contiguous, plans[k].count == allocationSizes[a], plans[k].count > 0 else { return nil }
            return plans[k].entry
        }
        defer {
            for case let entry? in direct {
                let a = entry - argumentCount - constants.count
                table[entry] = arena.base + allocationOffsets[a]
            }
        }
        let xArrays = xs.map { $0.storage }, restArrays = rest.map { $0.shape.isEmpty ? [$0.scalarValue] : $0.storage }
        var slots = [Tensor<Scalar>?](repeating: nil, count: slotCount)
        withExtendedLifetime((xArrays, restArrays)) {
            let xBases = xArrays.map { UnsafeMutablePointer(mutating: $0.withUnsafeBufferPointer { $0.baseAddress! }) }
            for (k, array) in restArrays.enumerated() {
                table[carryCount + xs.count + k] = UnsafeMutablePointer(mutating: array.withUnsafeBufferPointer { $0.baseAddress! })
            }
            for t in 0..<count {
                let current = carryBuffers[t % 2], next = carryBuffers[(t + 1) % 2]
                let position = reversed ? count - 1 - t : t
                for i in 0..<carryCount { table[i] = current[i] }
                for (i, kept) in history.enumerated() {
                    (kept + position * carrySizes[i]).update(from: current[i], count: carrySizes[i])
                }
                for (j, base) in xBases.enumerated() { table[carryCount + j] = base + position * xSizes[j] }
                for i in 0..<carryCount { if let entry = direct[i] { table[entry] = next[i] } }
                for j in 0..<yShapes.count {
                    if let entry = direct[carryCount + j] { table[entry] = stacked[j] + position * ySizes[j] }
                }
                execute(arena: arena, slots: &slots, arguments: [])
                for i in 0..<carryCount where direct[i] == nil { store(i, into: next[i]) }
                for j in 0..<yShapes.count where direct[carryCount + j] == nil {
                    store(carryCount + j, into: stacked[j] + position * ySizes[j])
                }
            }
        }
        for memo in routingMemos { memo.forget() }
        let final = carryBuffers[count % 2]
        func array(_ base: UnsafeMutablePointer<Scalar>, _ size: Int) -> [Scalar] { Array(UnsafeBufferPointer(start: base, count: size)) }
        let carry = carryShapes.indices.map { i in Tensor<Scalar>(shape: carryShapes[i], buffer: array(final[i], carrySizes[i])) }
        let ys = yShapes.indices.map { j in Tensor<Scalar>(shape: [count] + yShapes[j], buffer: stackedArrays[j].array) }
        let carries = history.indices.map { i in Tensor<Scalar>(shape: [count] + carryShapes[i], buffer: historyArrays[i].array) }
        return (carry, ys, carries)
    }

    /// A new array of `count` values left for the caller to write through `base` (every value, before the array
    /// is read): a program's outputs and a scan's stacked outputs are written in place this way, never copied.
    private static func uninitializedArray(_ count: Int) -> (array: [Scalar], base: UnsafeMutablePointer<Scalar>) {
        var base: UnsafeMutablePointer<Scalar>?
        let array = [Scalar](unsafeUninitializedCapacity: Swift.max(count, 1)) { buffer, initialized in
            base = buffer.baseAddress
            initialized = count
        }
        return (array, base!)
    }

    /// Copies the value of `shape` read through `access` into contiguous memory.
    private func copy(_ access: Access, shape: [Int], table: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>, into target: UnsafeMutablePointer<Scalar>) {
        let base = table[tableIndex(access.buffer)]! + access.offset
        let count = shape.reduce(1, *)
        if access.isContiguous(shape: shape) {
            target.update(from: base, count: count)
        } else {
            forEachStridedOffset(shape, access.strides) { i, offset in target[i] = base[offset] }
        }
    }

    /// The value of `shape` read through `access` as a new tensor (the argument or slot tensor itself when the
    /// access is the whole of it).
    private func tensor(
        at access: Access, shape: [Int], table: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>,
        slots: [Tensor<Scalar>?], arguments: [Tensor<Scalar>]
    ) -> Tensor<Scalar> {
        let whole = access.offset == 0 && access.isContiguous(shape: shape)
        if whole, case .argument(let k) = access.buffer, k < arguments.count, arguments[k].shape.reduce(1, *) == shape.reduce(1, *) {
            return withoutRecording { arguments[k].reshaped(to: shape) }
        }
        if whole, case .slot(let s) = access.buffer, let value = slots[s], value.scalarCount == shape.reduce(1, *) {
            return withoutRecording { value.reshaped(to: shape) }
        }
        if whole, case .constant(let c) = access.buffer, constantTensors[c].scalarCount == shape.reduce(1, *) {
            return withoutRecording { constantTensors[c].reshaped(to: shape) }
        }
        let base = table[tableIndex(access.buffer)]!
        let count = shape.reduce(1, *)
        let values = [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
            if count > 0 {
                if access.isContiguous(shape: shape) {
                    out.baseAddress!.initialize(from: base + access.offset, count: count)
                } else {
                    forEachStridedOffset(shape, access.strides) { i, offset in
                        (out.baseAddress! + i).initialize(to: base[access.offset + offset])
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: shape, buffer: values)
    }

    private func runSequence(
        _ kernels: OwnedBuffer<UnsafePointer<bp_fused_kernel>?>, table: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>,
        scratch: UnsafeMutablePointer<Scalar>
    ) {
        Scalar._fusedSequence(UnsafeRawPointer(kernels.pointer), count: kernels.count, table: UnsafeRawPointer(table), scratch: scratch)
    }

    private func runParallel(
        _ k: KernelStep<Scalar>, table: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>, scratch: UnsafeMutablePointer<Scalar>
    ) {
        Scalar._fusedPrepare(
            UnsafeRawPointer(k.kernel.pointer), table: UnsafeRawPointer(table),
            inputs: UnsafeMutableRawPointer(k.inputBases.pointer), outputs: UnsafeMutableRawPointer(k.outputBases.pointer))
        let pointers = KernelPointers(step: k, scratch: scratch)
        let parts = k.parts
        concurrentPerformKeepingKernelPath(iterations: parts) { part in
            if pointers.step.splitsColumns {
                let chunk = ((pointers.step.length + parts - 1) / parts + 63) / 64 * 64
                let lower = Swift.min(part * chunk, pointers.step.length)
                pointers.run(rows: 0..<pointers.step.rows, columns: lower..<Swift.min(lower + chunk, pointers.step.length), part: part)
            } else {
                let block = pointers.step.rowBlock
                let chunk = ((pointers.step.rows / block + parts - 1) / parts) * block
                let lower = Swift.min(part * chunk, pointers.step.rows)
                pointers.run(rows: lower..<Swift.min(lower + chunk, pointers.step.rows), columns: 0..<pointers.step.length, part: part)
            }
        }
    }

    private func runMatmul(_ m: MatmulSpec, a: UnsafeMutablePointer<Scalar>, b: UnsafeMutablePointer<Scalar>, c: UnsafeMutablePointer<Scalar>) {
        let (mm, n, k, transposeA, transposeB, lda, ldb) = (m.m, m.n, m.k, m.transposeA, m.transposeB, m.lda, m.ldb)
        let operands = BatchPointers(a: UnsafePointer(a), b: UnsafePointer(b), c: c)
        let (offsetsA, offsetsB) = (m.batchOffsetsA, m.batchOffsetsB)
        let (alpha, beta) = (Scalar(m.alpha), Scalar(m.beta))
        // As the eager batched product does: small products of a batch spread over the cores by entry.
        forEachBatchedProduct(batch: m.batch, m: mm, n: n, k: k) { i in
            gemm(
                transposeA: transposeA, transposeB: transposeB, m: mm, n: n, k: k, alpha: alpha,
                a: operands.a + offsetsA[i], lda: lda, b: operands.b + offsetsB[i], ldb: ldb,
                beta: beta, c: operands.c + i * mm * n, ldc: n)
        }
    }
}

/// What the threads of a split kernel share: the step and the scratch.
private struct KernelPointers<Scalar: TensorScalar>: @unchecked Sendable {
    let step: KernelStep<Scalar>
    let scratch: UnsafeMutablePointer<Scalar>

    func run(rows: Range<Int>, columns: Range<Int>, part: Int) {
        guard !rows.isEmpty, !columns.isEmpty else { return }
        let scratch = self.scratch + part * step.scratchCount
        Scalar._fusedRun(
            UnsafeRawPointer(step.kernel.pointer), inputs: UnsafeRawPointer(step.inputBases.pointer),
            outputs: UnsafeRawPointer(step.outputBases.pointer), rows: rows, columns: columns, scratch: scratch)
    }
}

/// One call's memory: the arena and the kernels' scratch.
final class Arena<Scalar>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Scalar>
    let scratch: UnsafeMutablePointer<Scalar>
    /// Every buffer's base pointer, by table entry (see `Program.tableIndex`).
    let table: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>
    /// Room for the values of scalar arguments and scalar slots.
    let cells: UnsafeMutablePointer<Scalar>
    private let tableCount: Int

    init(size: Int, scratch: Int, tableCount: Int) {
        self.tableCount = tableCount
        base = allocateCacheAligned(Scalar.self, count: Swift.max(size, 1) + 16)
        self.scratch = allocateCacheAligned(Scalar.self, count: Swift.max(scratch, 1))
        table = .allocate(capacity: Swift.max(tableCount, 1))
        table.initialize(repeating: nil, count: Swift.max(tableCount, 1))
        cells = .allocate(capacity: Swift.max(tableCount, 1))
    }

    deinit {
        base.deallocate()
        scratch.deallocate()
        table.deallocate()
        cells.deallocate()
    }
}

/// Memory for `count` values that starts on a cache line (64 bytes, also the width of an AVX-512 vector), so
/// that the kernels' full-width loads and stores at multiples of 64 bytes from it never straddle two lines.
/// Freed with `deallocate()` as any allocation.
func allocateCacheAligned<Scalar>(_ type: Scalar.Type, count: Int) -> UnsafeMutablePointer<Scalar> {
    UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Scalar>.stride, alignment: 64)
        .bindMemory(to: Scalar.self, capacity: count)
}

/// A lock for a program's idle arenas.
final class ArenaLock: @unchecked Sendable {
    private let lock = DeferredValueLock()
    func withLock<R>(_ body: () -> R) -> R { lock.withLock(body) }
}

/// Calls `body(i, offset)` for every position `i` (row-major) of `shape` with its offset through `strides`.
func forEachStridedOffset(_ shape: [Int], _ strides: [Int], _ body: (Int, Int) -> Void) {
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    var index = [Int](repeating: 0, count: shape.count)
    var offset = 0
    for i in 0..<count {
        body(i, offset)
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            offset += strides[axis]
            if index[axis] < shape[axis] { break }
            offset -= strides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}

/// A binary min-heap of (key, value) pairs, for the memory plan's expiring allocations.
struct MinimumHeap {
    private var items: [(key: Int, value: Int)] = []

    /// The pair with the smallest key.
    func peek() -> (Int, Int)? { items.first.map { ($0.key, $0.value) } }

    mutating func push(_ key: Int, _ value: Int) {
        items.append((key, value))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[parent].key > items[i].key else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var i = 0
        while true {
            let left = 2 * i + 1, right = left + 1
            var smallest = i
            if left < items.count && items[left].key < items[smallest].key { smallest = left }
            if right < items.count && items[right].key < items[smallest].key { smallest = right }
            if smallest == i { break }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}
