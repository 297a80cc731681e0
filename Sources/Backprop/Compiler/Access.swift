// How a compiled program reads a value: a buffer, an offset and per-axis strides. Reshapes, broadcasts,
// transposes and slices of a value in memory are accesses to the same buffer, never copies.

/// A buffer of a compiled program's memory.
enum BufferReference: Hashable {
    /// The call's argument of this index.
    case argument(Int)
    /// A constant of the program.
    case constant(Int)
    /// An allocation in the program's arena.
    case allocation(Int)
    /// The value an opaque step produced in this call.
    case slot(Int)
}

/// A strided read of a buffer: element `p` of a value of `shape` is at `offset + Σ p[axis]·strides[axis]`.
struct Access: Hashable {
    var buffer: BufferReference
    var offset: Int
    var strides: [Int]

    /// The whole of a contiguous buffer holding a value of `shape`.
    static func contiguous(_ buffer: BufferReference, shape: [Int]) -> Access {
        Access(buffer: buffer, offset: 0, strides: contiguousStrides(shape))
    }

    /// Whether the value of `shape` is laid out row-major and contiguous from `offset`.
    func isContiguous(shape: [Int]) -> Bool {
        zip(strides, contiguousStrides(shape)).enumerated().allSatisfy { axis, pair in
            shape[axis] == 1 || pair.0 == pair.1
        }
    }

    /// The same memory read as `target` (a reshape), when strides for it exist without copying: always for a
    /// contiguous value, else when the reshape only splits or merges axes that are laid out compatibly.
    func reshaped(from shape: [Int], to target: [Int]) -> Access? {
        if isContiguous(shape: shape) { return Access(buffer: buffer, offset: offset, strides: contiguousStrides(target)) }
        // Drop axes of size 1, then match runs of axes whose product agrees (NumPy's no-copy reshape).
        let old = zip(shape, strides).filter { $0.0 != 1 }
        var newStrides = [Int](repeating: 0, count: target.count)
        var oi = 0, ni = 0
        while ni < target.count {
            if target[ni] == 1 { newStrides[ni] = 0; ni += 1; continue }
            guard oi < old.count else { return nil }
            // Group old axes [oi, oj) and new axes [ni, nj) of equal product.
            var oj = oi + 1, nj = ni + 1
            var op = old[oi].0, np = target[ni]
            while op != np {
                if op < np {
                    guard oj < old.count else { return nil }
                    op *= old[oj].0; oj += 1
                } else {
                    guard nj < target.count else { return nil }
                    np *= target[nj]; nj += 1
                }
            }
            // The old group must be contiguous among itself.
            for k in oi..<(oj - 1) where old[k].1 != old[k + 1].1 * old[k + 1].0 { return nil }
            var step = old[oj - 1].1
            for k in Swift.stride(from: nj - 1, through: ni, by: -1) {
                newStrides[k] = target[k] == 1 ? 0 : step
                step *= target[k]
            }
            oi = oj
            ni = nj
        }
        guard oi == old.count else { return nil }
        return Access(buffer: buffer, offset: offset, strides: newStrides)
    }

    /// This value of `shape` broadcast to `target` (NumPy rules): stretched axes get a stride of 0.
    func broadcast(from shape: [Int], to target: [Int]) -> Access {
        let lead = target.count - shape.count
        let newStrides = target.indices.map { axis -> Int in
            axis < lead || shape[axis - lead] == 1 ? 0 : strides[axis - lead]
        }
        return Access(buffer: buffer, offset: offset, strides: newStrides)
    }

    /// The axes permuted: axis `i` of the result is axis `permutation[i]` of this value.
    func transposed(_ permutation: [Int]) -> Access {
        Access(buffer: buffer, offset: offset, strides: permutation.map { strides[$0] })
    }

    /// Positions `lower...` along `axis`.
    func sliced(lower: Int, axis: Int) -> Access {
        Access(buffer: buffer, offset: offset + lower * strides[axis], strides: strides)
    }
}
