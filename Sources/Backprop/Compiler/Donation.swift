// Donation: a compiled update (`compiled(updating:)`) writes the new value of a state tensor into the memory of
// the old one, as JAX's donated arguments do, when nothing reads the old value afterwards.
import CBackpropKernels

/// Which of a program's first `count` outputs may be written into the memory of the argument of the same
/// index (the old value of a state tensor): pairs of the argument and the heap slot holding the output.
///
/// An output qualifies when one fused kernel stores it whole (its heap slot touched by no step before), that
/// kernel reads the argument only element for element at the positions it writes (so a tile's reads come
/// before its stores, which the interpreter then makes after the tile's instructions: it stores no register
/// straight into an output whose buffer is also an input's), no other output of the call is the argument or
/// the slot, and no step after the kernel reads the argument. (An opaque step's result that is the argument's
/// storage itself, a primitive returning its input, is copied when the call donates it: `Program.execute`.)
/// A kernel that some later steps still read the argument after is moved after the last of them first, when
/// none of the steps it passes touches what it writes or writes what it reads.
///
/// Whether a pair is donated is decided per call: only when the caller's tensor is the sole owner of its
/// storage (else the output gets memory of its own, and the caller's copies keep the old value).
func donations<Scalar>(
    specs: inout [StepSpec<Scalar>], outputs: [Access], outputShapes: [[Int]], heapSlots: [(slot: Int, count: Int)],
    count: Int
) -> [(argument: Int, slot: Int)] {
    let heapCounts = Dictionary(heapSlots.map { ($0.slot, $0.count) }, uniquingKeysWith: { a, _ in a })
    // The kernel storing each candidate output whole, and the index of its output there.
    func writer(of slot: Int, in specs: [StepSpec<Scalar>]) -> (step: Int, output: Int)? {
        guard let first = specs.firstIndex(where: { $0.readBuffers.contains(.slot(slot)) || $0.writtenBuffers.contains(.slot(slot)) }),
              case .kernel(let k) = specs[first] else { return nil }
        let stores = k.outputs.indices.filter { k.outputs[$0].access.buffer == .slot(slot) }
        guard stores.count == 1, let j = stores.first, k.outputs[j].mode == Int32(BP_FUSED_STORE),
              k.outputs[j].access.offset == 0, k.outputs[j].access.isContiguous(shape: k.shape),
              !k.fills.contains(where: { $0.buffer == .slot(slot) })
        else { return nil }
        return (first, j)
    }
    var candidates: [(argument: Int, slot: Int)] = []
    for i in 0..<Swift.min(count, outputs.count) {
        let output = outputs[i], size = outputShapes[i].reduce(1, *)
        guard case .slot(let slot) = output.buffer, heapCounts[slot] == size, size > 0, output.offset == 0,
              output.isContiguous(shape: outputShapes[i]),
              !outputs.indices.contains(where: { k in k != i && (outputs[k].buffer == output.buffer || outputs[k].buffer == .argument(i)) })
        else { continue }
        candidates.append((i, slot))
    }
    // Move each candidate's kernel after the last step that reads its argument, where that is allowed.
    for (argument, slot) in candidates {
        guard let (step, _) = writer(of: slot, in: specs),
              let last = specs.indices.last(where: { specs[$0].readBuffers.contains(.argument(argument)) }), last > step
        else { continue }
        let kernel = specs[step]
        let reads = Set(kernel.readBuffers), writes = Set(kernel.writtenBuffers)
        let passed = specs[(step + 1)...last]
        guard passed.allSatisfy({ other in
            Set(other.writtenBuffers).isDisjoint(with: reads) && Set(other.writtenBuffers + other.readBuffers).isDisjoint(with: writes)
        }) else { continue }
        specs.remove(at: step)
        specs.insert(kernel, at: last)
    }
    // Check every condition in the final order.
    return candidates.filter { argument, slot in
        guard let (step, j) = writer(of: slot, in: specs), case .kernel(let k) = specs[step] else { return false }
        let written = k.outputs[j].access
        for (r, input) in k.inputs.enumerated() where input.buffer == .argument(argument) {
            // The same positions (strides along axes of one element do not matter).
            guard input.offset == 0,
                  k.shape.indices.allSatisfy({ k.shape[$0] == 1 || input.strides[$0] == written.strides[$0] })
            else { return false }
            // No output of the kernel may store the argument's own register (it would read the new value).
            if k.outputs.contains(where: { Int($0.register) == r }) { return false }
        }
        return !specs[(step + 1)...].contains { $0.readBuffers.contains(.argument(argument)) }
    }
}

/// Folds the update of a donated state tensor into the product that computes its step, p ← p + α·(A·B): the
/// product then accumulates into the state (GEMM's β = 1, its α), so the step's gradient is never stored and
/// read again, and the kernel's pass over the state is gone. Applies when the kernel storing the new value
/// has two inputs, the old value and the product's output, which only it reads, and computes p + α·g with a
/// constant α; the product takes the kernel's place. When a call does not donate the state, the product starts
/// from a copy of the old value.
func fusingUpdatesIntoProducts<Scalar>(specs: inout [StepSpec<Scalar>], donations: [(argument: Int, slot: Int)]) {
    for (argument, slot) in donations {
        guard let step = specs.firstIndex(where: { $0.writtenBuffers.contains(.slot(slot)) }),
              case .kernel(let k) = specs[step], k.inputs.count == 2, k.outputs.count == 1, k.fills.isEmpty,
              let p = k.inputs.firstIndex(where: { $0.buffer == .argument(argument) }),
              case .allocation(let gradient) = k.inputs[1 - p].buffer, k.inputs[1 - p].offset == 0,
              k.inputs[1 - p].isContiguous(shape: k.shape), k.inputs[p].isContiguous(shape: k.shape),
              let form = linearForm(of: k.outputs[0].register, in: k), form.count == 2,
              form[Int32(p)] == 1, let alpha = form[Int32(1 - p)],
              let productIndex = specs.firstIndex(where: { $0.writtenBuffers.contains(.allocation(gradient)) }),
              productIndex < step, case .matmul(var product) = specs[productIndex], product.beta == 0,
              product.output.offset == 0, product.batch * product.m * product.n == k.shape.reduce(1, *),
              specs.indices.allSatisfy({ i in
                  i == step || i == productIndex
                      || !(specs[i].readBuffers + specs[i].writtenBuffers).contains(.allocation(gradient))
              }),
              // Its operands keep their values until the kernel's place.
              specs[(productIndex + 1)..<step].allSatisfy({ !Set($0.writtenBuffers).contains(product.a.buffer)
                  && !Set($0.writtenBuffers).contains(product.b.buffer) })
        else { continue }
        product.output = k.outputs[0].access
        product.alpha *= alpha
        product.beta = 1
        product.initial = k.inputs[p]
        specs[step] = .matmul(product)
        specs.remove(at: productIndex)
    }
}

/// The output of register `register` as a linear combination of the kernel's inputs (coefficient by input
/// register), when the instructions that compute it are additions, subtractions, negations and products by
/// constants; nil otherwise.
private func linearForm(of register: Int32, in kernel: KernelSpec) -> [Int32: Double]? {
    var forms: [Int32: [Int32: Double]] = [:]
    var constants: [Int32: Double] = [:]
    for r in 0..<Int32(kernel.inputs.count) { forms[r] = [r: 1] }
    func combine(_ a: [Int32: Double], _ sa: Double, _ b: [Int32: Double], _ sb: Double) -> [Int32: Double] {
        var sum = a.mapValues { $0 * sa }
        for (r, c) in b { sum[r, default: 0] += c * sb }
        return sum
    }
    for instruction in kernel.instructions {
        let (a, b, d, immediate) = (instruction.a, instruction.b, instruction.destination, instruction.immediate)
        switch Int(instruction.op) {
        case Int(BP_FUSED_CONSTANT): constants[d] = immediate
        case Int(BP_FUSED_SCALE): if let f = forms[a] { forms[d] = f.mapValues { $0 * immediate } }
        case Int(BP_FUSED_NEG): if let f = forms[a] { forms[d] = f.mapValues { -$0 } }
        case Int(BP_FUSED_MUL):
            if let c = constants[a], let f = forms[b] { forms[d] = f.mapValues { $0 * c } }
            else if let c = constants[b], let f = forms[a] { forms[d] = f.mapValues { $0 * c } }
            else if let x = constants[a], let y = constants[b] { constants[d] = x * y }
        case Int(BP_FUSED_ADD), Int(BP_FUSED_SUB):
            let sign = Int(instruction.op) == Int(BP_FUSED_ADD) ? 1.0 : -1.0
            if let fa = forms[a], let fb = forms[b] { forms[d] = combine(fa, 1, fb, sign) }
        case Int(BP_FUSED_MUL_ADD):
            if let fa = forms[a], let fb = forms[b] { forms[d] = combine(fa, immediate, fb, 1) }
        default: break
        }
    }
    return forms[register]
}
