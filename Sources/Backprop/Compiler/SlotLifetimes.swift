// When a call's slots hold memory: the values a call returns, the values opaque steps read and what opaque steps
// produce live outside the arena, in arrays of their own, and a call keeps each only while a step still needs it.

/// When each slot of a program holds memory during a call: a heap slot's new array is made just before the
/// first step that touches it, and every slot (a heap slot or an opaque step's result) is dropped after the
/// last step that touches it, unless an output of the call reads it. Making every heap array at the start of
/// a call and keeping every slot to its end held all of a training step's activations and their gradients at
/// once, where an eager step frees each after its last use.
struct SlotLifetimes {
    /// Heap slots no step touches (filled at the start of a call; none in the programs the lowering makes).
    let madeFirst: [(slot: Int, count: Int)]
    /// Per step: the heap slots to fill with a new array of this many values before it runs.
    let made: [[(slot: Int, count: Int)]]
    /// Per step: the slots to drop after it runs.
    let dropped: [[Int]]

    /// `touched(step)`: the buffers a step reads or writes.
    init(stepCount: Int, touched: (Int) -> [BufferReference], heapSlots: [(slot: Int, count: Int)], outputs: [Access]) {
        var first: [Int: Int] = [:], last: [Int: Int] = [:]
        for step in 0..<stepCount {
            for case .slot(let s) in touched(step) {
                if first[s] == nil { first[s] = step }
                last[s] = step
            }
        }
        var kept = Set<Int>()
        for case .slot(let s) in outputs.map(\.buffer) { kept.insert(s) }
        var made = [[(slot: Int, count: Int)]](repeating: [], count: stepCount)
        var dropped = [[Int]](repeating: [], count: stepCount)
        var madeFirst: [(slot: Int, count: Int)] = []
        for (slot, count) in heapSlots {
            if let step = first[slot] { made[step].append((slot, count)) } else { madeFirst.append((slot, count)) }
        }
        for (slot, step) in last where !kept.contains(slot) { dropped[step].append(slot) }
        self.madeFirst = madeFirst
        self.made = made
        self.dropped = dropped
    }
}
