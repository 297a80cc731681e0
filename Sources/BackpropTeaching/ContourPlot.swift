// An SVG contour plot of a two-variable function with a path drawn over it, by marching squares.

import Foundation

/// Why a contour plot could not be drawn.
public struct ContourPlotError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// Draws the contour lines of a two-variable formula over a box around a path, and the path on top.
///
/// Levels are spaced logarithmically above the smallest value on the grid, which suits narrow valleys
/// such as Rosenbrock's.
public struct ContourPlot: Sendable {
    /// The picture's width in pixels.
    public var width: Int
    /// The picture's height in pixels.
    public var height: Int
    /// Grid cells along each axis.
    public var resolution: Int
    /// How many contour levels.
    public var levelCount: Int

    /// Creates a plot's settings.
    public init(width: Int = 720, height: Int = 540, resolution: Int = 160, levelCount: Int = 24) {
        self.width = width
        self.height = height
        self.resolution = resolution
        self.levelCount = levelCount
    }

    /// The SVG document: contours of `expression` (which must have two variables, the first along x) around
    /// `path`, the path as a polyline from a start dot to an end mark, and `title` above.
    ///
    /// - Throws: `ContourPlotError` when the formula does not have exactly two variables.
    public func svg(of expression: Formula, path: [[Double]], title: String) throws -> String {
        try svg(of: expression, paths: [(label: "", points: path)], title: title)
    }

    /// The SVG document with several labelled paths over the same contours (each in its own colour, with a
    /// legend when labelled), for comparing methods from the same start.
    public func svg(of expression: Formula, paths: [(label: String, points: [[Double]])], title: String) throws -> String {
        guard expression.variables.count == 2 else {
            throw ContourPlotError(message: "a contour plot needs a formula of two variables; \(expression.source) has \(expression.variables.count)")
        }
        let finitePaths = paths.map { (label: $0.label, points: $0.points.filter { $0.count == 2 && $0.allSatisfy(\.isFinite) }) }
        let finite = finitePaths.flatMap(\.points)
        guard !finite.isEmpty else { throw ContourPlotError(message: "the path has no finite point to plot") }
        let frame = PlotFrame(around: finite, width: width, height: height)
        let body = contours(of: expression, in: frame) + pathMarks(finitePaths, in: frame)
        let axes = axisMarks(in: frame, names: expression.variables, title: title)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <clipPath id="plot"><rect x="\(svgNumber(frame.left))" y="\(svgNumber(frame.top))" width="\(svgNumber(frame.plotWidth))" height="\(svgNumber(frame.plotHeight))"/></clipPath>
            <g clip-path="url(#plot)">
            \(body.joined(separator: "\n"))
            </g>
            \(axes.joined(separator: "\n"))
            </svg>

            """
    }

    /// The formula's values on the grid over the frame, from the engine: `ny + 1` rows of `n + 1` values.
    func valueGrid(of expression: Formula, in frame: PlotFrame) -> (values: [[Double]], n: Int, ny: Int) {
        let n = Swift.max(2, resolution)
        let ny = Swift.max(2, Int((Double(n) * frame.plotHeight / frame.plotWidth).rounded()))
        var grid = [[Double]](repeating: [Double](repeating: .nan, count: n + 1), count: ny + 1)
        for j in 0...ny {
            let y = frame.lo[1] + (frame.hi[1] - frame.lo[1]) * Double(j) / Double(ny)
            for i in 0...n {
                grid[j][i] = expression.value(at: [frame.lo[0] + (frame.hi[0] - frame.lo[0]) * Double(i) / Double(n), y])
            }
        }
        return (grid, n, ny)
    }

    /// One SVG path per contour level, levels spaced logarithmically above the grid's smallest value.
    func contours(of expression: Formula, in frame: PlotFrame) -> [String] {
        let (grid, n, ny) = valueGrid(of: expression, in: frame)
        let values = grid.joined().filter(\.isFinite)
        guard let low = values.min(), let high = values.max(), high > low else { return [] }
        let decades = 5.0
        var paths: [String] = []
        for k in 0..<levelCount {
            let level = low + (high - low) * Foundation.pow(10, -decades + decades * Double(k + 1) / Double(levelCount + 1))
            let d = contourPathData(grid, n: n, ny: ny, level: level, in: frame)
            if !d.isEmpty {
                let color = paletteColor(Double(k) / Double(Swift.max(1, levelCount - 1)))
                paths.append("<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1\"/>")
            }
        }
        return paths
    }

    /// The path data (`M x y L x y` per segment) of one level's contour over the grid, by marching squares.
    func contourPathData(_ grid: [[Double]], n: Int, ny: Int, level: Double, in frame: PlotFrame) -> String {
        var d = ""
        for j in 0..<ny {
            for i in 0..<n {
                for segment in marchingSquaresSegments(grid[j][i], grid[j][i + 1], grid[j + 1][i + 1], grid[j + 1][i], level: level) {
                    // Corner offsets are in cells: (0,0) bottom-left, (1,1) top-right.
                    func point(_ p: (Double, Double)) -> String {
                        let x = frame.lo[0] + (frame.hi[0] - frame.lo[0]) * (Double(i) + p.0) / Double(n)
                        let y = frame.lo[1] + (frame.hi[1] - frame.lo[1]) * (Double(j) + p.1) / Double(ny)
                        return "\(svgNumber(frame.sx(x))) \(svgNumber(frame.sy(y)))"
                    }
                    d += "M\(point(segment.0))L\(point(segment.1))"
                }
            }
        }
        return d
    }

    /// Each path, thinned to at most about 2000 points (always keeping the last), with its start and end
    /// marks, then the legend of the labelled ones.
    func pathMarks(_ paths: [(label: String, points: [[Double]])], in frame: PlotFrame) -> [String] {
        let colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]
        var marks: [String] = [], legend: [String] = []
        for (k, (label, points)) in paths.enumerated() where !points.isEmpty {
            let color = colors[k % colors.count]
            let stride = Swift.max(1, points.count / 2000)
            var shown = Swift.stride(from: 0, to: points.count, by: stride).map { points[$0] }
            if shown.last! != points.last! { shown.append(points.last!) }
            let polyline = shown.map { "\(svgNumber(frame.sx($0[0]))),\(svgNumber(frame.sy($0[1])))" }.joined(separator: " ")
            marks.append("<polyline points=\"\(polyline)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>")
            if points.count <= 200 {
                for p in shown { marks.append("<circle cx=\"\(svgNumber(frame.sx(p[0])))\" cy=\"\(svgNumber(frame.sy(p[1])))\" r=\"2.5\" fill=\"\(color)\"/>") }
            }
            let start = points.first!, end = points.last!
            marks.append("<circle cx=\"\(svgNumber(frame.sx(start[0])))\" cy=\"\(svgNumber(frame.sy(start[1])))\" r=\"5\" fill=\"\(color)\"/>")
            marks.append("<circle cx=\"\(svgNumber(frame.sx(end[0])))\" cy=\"\(svgNumber(frame.sy(end[1])))\" r=\"6\" fill=\"white\" stroke=\"\(color)\" stroke-width=\"2.5\"/>")
            if !label.isEmpty {
                let y = Double(height) - frame.bottom - 12 - 18 * Double(paths.count - 1 - k)
                legend.append("<rect x=\"\(svgNumber(frame.left + 10))\" y=\"\(svgNumber(y - 11))\" width=\"14\" height=\"4\" fill=\"\(color)\"/>")
                legend.append("<text x=\"\(svgNumber(frame.left + 30))\" y=\"\(svgNumber(y - 5))\">\(xmlEscaped(label))</text>")
            }
        }
        return marks + legend
    }

    /// The frame, five ticks with labels on each axis, the variables' names and the title.
    func axisMarks(in frame: PlotFrame, names: [String], title: String) -> [String] {
        var axes: [String] = []
        axes.append("<rect x=\"\(svgNumber(frame.left))\" y=\"\(svgNumber(frame.top))\" width=\"\(svgNumber(frame.plotWidth))\" height=\"\(svgNumber(frame.plotHeight))\" fill=\"none\" stroke=\"#333\"/>")
        for t in 0...4 {
            let fraction = Double(t) / 4
            let x = frame.lo[0] + (frame.hi[0] - frame.lo[0]) * fraction, y = frame.lo[1] + (frame.hi[1] - frame.lo[1]) * fraction
            axes.append("<text x=\"\(svgNumber(frame.sx(x)))\" y=\"\(svgNumber(frame.top + frame.plotHeight + 18))\" text-anchor=\"middle\">\(formatSignificant(x, digits: 3))</text>")
            axes.append("<text x=\"\(svgNumber(frame.left - 6))\" y=\"\(svgNumber(frame.sy(y) + 4))\" text-anchor=\"end\">\(formatSignificant(y, digits: 3))</text>")
        }
        let middle = frame.top + frame.plotHeight / 2
        axes.append("<text x=\"\(svgNumber(frame.left + frame.plotWidth / 2))\" y=\"\(height - 8)\" text-anchor=\"middle\" font-style=\"italic\">\(xmlEscaped(names[0]))</text>")
        axes.append("<text x=\"16\" y=\"\(svgNumber(middle))\" text-anchor=\"middle\" font-style=\"italic\" transform=\"rotate(-90 16 \(svgNumber(middle)))\">\(xmlEscaped(names[1]))</text>")
        axes.append("<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">\(xmlEscaped(title))</text>")
        return axes
    }
}

/// Where the plot sits in the picture and which box of the plane it shows: the points' extent, padded by
/// a quarter on each side (at least 0.5 wide), inside fixed margins.
struct PlotFrame {
    /// The lower and upper corners of the box shown, per axis.
    var lo: [Double], hi: [Double]
    /// The margins around the plot, in pixels.
    let left = 64.0, right = 20.0, top = 44.0, bottom = 48.0
    /// The plot's size in pixels.
    let plotWidth: Double, plotHeight: Double

    init(around points: [[Double]], width: Int, height: Int) {
        lo = [points.map { $0[0] }.min()!, points.map { $0[1] }.min()!]
        hi = [points.map { $0[0] }.max()!, points.map { $0[1] }.max()!]
        for a in 0..<2 {
            let extent = Swift.max(hi[a] - lo[a], 0.5)
            let middle = (hi[a] + lo[a]) / 2
            lo[a] = middle - 0.75 * extent
            hi[a] = middle + 0.75 * extent
        }
        plotWidth = Double(width) - left - right
        plotHeight = Double(height) - top - bottom
    }

    /// The picture's x for the plane's x.
    func sx(_ x: Double) -> Double { left + (x - lo[0]) / (hi[0] - lo[0]) * plotWidth }
    /// The picture's y for the plane's y (upwards in the plane, downwards in the picture).
    func sy(_ y: Double) -> Double { top + (hi[1] - y) / (hi[1] - lo[1]) * plotHeight }
}

/// The contour segments of `level` in one grid cell with corner values a (bottom-left), b (bottom-right),
/// c (top-right), d (top-left); points are in cell units, (0, 0) bottom-left. Cells with a non-finite
/// corner give none; saddles are split by the centre's average.
func marchingSquaresSegments(
    _ a: Double, _ b: Double, _ c: Double, _ d: Double, level: Double
) -> [((Double, Double), (Double, Double))] {
    guard a.isFinite, b.isFinite, c.isFinite, d.isFinite else { return [] }
    let index = (a > level ? 1 : 0) | (b > level ? 2 : 0) | (c > level ? 4 : 0) | (d > level ? 8 : 0)
    if index == 0 || index == 15 { return [] }
    func t(_ u: Double, _ v: Double) -> Double { u == v ? 0.5 : (level - u) / (v - u) }
    let bottom = (t(a, b), 0.0), right = (1.0, t(b, c)), top = (t(d, c), 1.0), left = (0.0, t(a, d))
    switch index {
    case 1, 14: return [(left, bottom)]
    case 2, 13: return [(bottom, right)]
    case 3, 12: return [(left, right)]
    case 4, 11: return [(right, top)]
    case 6, 9: return [(bottom, top)]
    case 7, 8: return [(left, top)]
    case 5, 10:
        let centreAbove = (a + b + c + d) / 4 > level
        // 5: a and c above. If the centre is above too, the two below-corners are cut off separately.
        if (index == 5) == centreAbove { return [(left, top), (bottom, right)] }
        return [(left, bottom), (right, top)]
    default: return []
    }
}

/// A colour from dark violet (0) through teal to yellow (1).
func paletteColor(_ t: Double) -> String {
    let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
    let x = Swift.min(1, Swift.max(0, t)) * Double(stops.count - 1)
    let k = Swift.min(stops.count - 2, Int(x))
    let f = x - Double(k)
    let mix = { (u: Double, v: Double) in Int((u + (v - u) * f).rounded()) }
    return String(format: "#%02x%02x%02x", mix(stops[k].0, stops[k + 1].0), mix(stops[k].1, stops[k + 1].1), mix(stops[k].2, stops[k + 1].2))
}

/// A coordinate with one decimal (a tenth of a pixel).
func svgNumber(_ value: Double) -> String { String(format: "%.1f", value) }

/// `text` with XML's special characters escaped.
func xmlEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
