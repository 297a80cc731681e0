/// The points of a descent kept for its result, in bounded memory however many steps it takes: every point
/// up to `capacity`, then, each time the capacity is reached, every second one of those kept (so the path
/// stays evenly spaced: steps 0, s, 2s, … for a stride s that doubles), and always the last point.
struct DescentPath {
    /// The most points kept (the last point may add one).
    let capacity: Int
    /// The points kept, the start first.
    private(set) var points: [[Double]] = []
    /// f at each point kept.
    private(set) var values: [Double] = []
    /// The steps between two points kept.
    private var stride = 1
    /// Points offered so far.
    private var offered = 0
    /// The last point offered, when it was not kept.
    private var last: (point: [Double], value: Double)?

    /// A path keeping at most `capacity` points (an even number, at least 2).
    init(capacity: Int) { self.capacity = Swift.max(capacity, 2) & ~1 }

    /// Offers the point of the next step and f there.
    mutating func record(_ point: [Double], value: Double) {
        defer { offered += 1 }
        guard offered % stride == 0 else {
            last = (point, value)
            return
        }
        last = nil
        points.append(point)
        values.append(value)
        if points.count >= capacity {
            // Keep steps 0, 2s, 4s, …; the point just added (an odd multiple of s) stays as the last point.
            last = (point, value)
            points = points.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            values = values.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            stride *= 2
        }
    }

    /// The points and values kept, the last point offered included.
    var finished: (points: [[Double]], values: [Double]) {
        guard let last else { return (points, values) }
        return (points + [last.point], values + [last.value])
    }
}
