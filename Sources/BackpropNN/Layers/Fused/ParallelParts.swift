import CBackpropKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The threads the fused layers split their loops over: `BACKPROP_THREADS` when it is a positive number, else
/// the processors this process may run on, as the core's products and elementwise loops do.
let fusedThreadCount: Int = {
    if let text = getenv("BACKPROP_THREADS").map({ String(cString: $0) }), let count = Int(text), count > 0 {
        return Swift.min(count, 256)
    }
    return Int(bp_usable_processors())
}()

/// The number of parts `forEachPart(count:minimumPerPart:_:)` splits `count` items into.
func partCount(_ count: Int, minimumPerPart: Int) -> Int {
    Swift.max(1, Swift.min(fusedThreadCount, count / Swift.max(minimumPerPart, 1)))
}

/// Calls `body(part, range)` on consecutive ranges covering `0..<count`, split over the library's threads
/// (`bp_parallel_run`) into `partCount(count, minimumPerPart:)` parts; `body` must touch only what belongs
/// to its range (and to its part).
func forEachPart(count: Int, minimumPerPart: Int, _ body: (Int, Range<Int>) -> Void) {
    let parts = partCount(count, minimumPerPart: minimumPerPart)
    guard parts >= 2 else {
        if count > 0 { body(0, 0..<count) }
        return
    }
    let chunk = (count + parts - 1) / parts
    withoutActuallyEscaping(body) { body in
        let job = PartsJob(body: body, count: count, chunk: chunk)
        withExtendedLifetime(job) {
            bp_parallel_run(parts, Int32(parts), { context, part in
                Unmanaged<PartsJob>.fromOpaque(context!).takeUnretainedValue().run(part)
            }, Unmanaged.passUnretained(job).toOpaque())
        }
    }
}

/// A split loop's body, passed to the C pool as its context.
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
