import Backprop

/// The number of parts `forEachPart(count:minimumPerPart:_:)` splits `count` items into.
func partCount(_ count: Int, minimumPerPart: Int) -> Int {
    Swift.max(1, Swift.min(parallelThreadCount, count / Swift.max(minimumPerPart, 1)))
}

/// Calls `body(part, range)` on consecutive ranges covering `0..<count`, split into
/// `partCount(count, minimumPerPart:)` parts over the core's threads (which carry the caller's kernel path to
/// the workers); `body` must touch only what belongs to its range (and to its part).
func forEachPart(count: Int, minimumPerPart: Int, _ body: (Int, Range<Int>) -> Void) {
    let parts = partCount(count, minimumPerPart: minimumPerPart)
    guard parts >= 2 else {
        if count > 0 { body(0, 0..<count) }
        return
    }
    let chunk = (count + parts - 1) / parts
    withoutActuallyEscaping(body) { body in
        let job = PartsJob(body: body, count: count, chunk: chunk)
        concurrentPerformKeepingKernelPath(iterations: parts) { part in job.run(part) }
    }
}

/// A split loop's body, shared with the pool's threads (each part touches only its own range).
private final class PartsJob: @unchecked Sendable {
    let body: (Int, Range<Int>) -> Void
    let count: Int
    let chunk: Int

    init(body: @escaping (Int, Range<Int>) -> Void, count: Int, chunk: Int) {
        self.body = body
        self.count = count
        self.chunk = chunk
    }

    func run(_ part: Int) {
        let lower = part * chunk
        if lower < count { body(part, lower..<Swift.min(lower + chunk, count)) }
    }
}
