import Foundation

/// Renders a run's loss and accuracy per epoch as a standalone SVG image: two panels side by side,
/// training in blue and held-out in orange, with labelled axes.
public func trainingCurvesSVG(_ history: [EpochRecord], title: String = "Training") -> String {
    curvesSVG(epochs: history.map { Double($0.epoch) }, panels: [
        ("Loss", history.map(\.trainLoss), history.map(\.testLoss)),
        ("Accuracy", history.map(\.trainAccuracy), history.map(\.testAccuracy)),
    ], title: title)
}

/// Renders a `Trainer`'s loss and each metric per epoch as a standalone SVG image: one panel each, side by
/// side, training in blue and held-out in orange.
public func trainingCurvesSVG(_ history: [TrainingRecord], title: String = "Training") -> String {
    let names = Set(history.flatMap { $0.trainMetrics.keys }).sorted()
    return curvesSVG(epochs: history.map { Double($0.epoch) }, panels: [("Loss", history.map(\.trainLoss), history.map(\.testLoss))]
        + names.map { name in (name, history.map { $0.trainMetrics[name] ?? .nan }, history.map { $0.testMetrics[name] }) },
        title: title)
}

/// Draws one panel per series pair: the training values and the held-out ones (nil where none).
private func curvesSVG(epochs: [Double], panels: [(name: String, train: [Double], test: [Double?])], title: String) -> String {
    let panelWidth = 420.0, panelHeight = 300.0, margin = (left: 56.0, right: 16.0, top: 40.0, bottom: 44.0)
    let width = Double(panels.count) * panelWidth
    var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(panelHeight))" \
        viewBox="0 0 \(Int(width)) \(Int(panelHeight))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>

        """
    for (index, panel) in panels.enumerated() {
        let originX = Double(index) * panelWidth
        let plotLeft = originX + margin.left, plotRight = originX + panelWidth - margin.right
        let plotTop = margin.top, plotBottom = panelHeight - margin.bottom
        let values = (panel.train + panel.test.compactMap { $0 }).filter(\.isFinite)
        var low = values.min() ?? 0, high = values.max() ?? 1
        if high - low < 1e-9 { low -= 0.5; high += 0.5 }
        let pad = (high - low) * 0.05
        low -= pad
        high += pad
        let firstEpoch = epochs.first ?? 1, lastEpoch = Swift.max(epochs.last ?? 1, firstEpoch + 1)
        func x(_ epoch: Double) -> Double { plotLeft + (epoch - firstEpoch) / (lastEpoch - firstEpoch) * (plotRight - plotLeft) }
        func y(_ value: Double) -> Double { plotBottom - (value - low) / (high - low) * (plotBottom - plotTop) }
        svg += "<text x=\"\(format(originX + panelWidth / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">"
            + "\(escapeXML(title)): \(panel.name)</text>\n"
        svg += "<rect x=\"\(format(plotLeft))\" y=\"\(format(plotTop))\" width=\"\(format(plotRight - plotLeft))\" "
            + "height=\"\(format(plotBottom - plotTop))\" fill=\"none\" stroke=\"#888\"/>\n"
        for tick in 0...4 {
            let value = low + (high - low) * Double(tick) / 4
            svg += "<line x1=\"\(format(plotLeft - 4))\" y1=\"\(format(y(value)))\" x2=\"\(format(plotRight))\" "
                + "y2=\"\(format(y(value)))\" stroke=\"#eee\"/>\n"
            svg += "<text x=\"\(format(plotLeft - 6))\" y=\"\(format(y(value) + 4))\" text-anchor=\"end\">"
                + "\(format(value, digits: 3))</text>\n"
        }
        for tick in 0...4 {
            let epoch = firstEpoch + (lastEpoch - firstEpoch) * Double(tick) / 4
            svg += "<text x=\"\(format(x(epoch)))\" y=\"\(format(plotBottom + 16))\" text-anchor=\"middle\">"
                + "\(format(epoch, digits: 3))</text>\n"
        }
        svg += "<text x=\"\(format((plotLeft + plotRight) / 2))\" y=\"\(format(panelHeight - 8))\" "
            + "text-anchor=\"middle\">epoch</text>\n"
        func polyline(_ series: [Double?], color: String, label: String, row: Int) {
            let points = zip(epochs, series).compactMap { epoch, value in
                value.flatMap { $0.isFinite ? "\(format(x(epoch))),\(format(y($0)))" : nil }
            }
            guard !points.isEmpty else { return }
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
            let legendY = plotTop + 14 + Double(row) * 16
            svg += "<line x1=\"\(format(plotRight - 90))\" y1=\"\(format(legendY - 4))\" x2=\"\(format(plotRight - 72))\" "
                + "y2=\"\(format(legendY - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            svg += "<text x=\"\(format(plotRight - 68))\" y=\"\(format(legendY))\">\(label)</text>\n"
        }
        polyline(panel.train, color: "#1f77b4", label: "train", row: 0)
        polyline(panel.test, color: "#ff7f0e", label: "held out", row: 1)
    }
    return svg + "</svg>\n"
}

/// A number for SVG coordinates and labels: fixed-point with up to `digits` significant decimals.
func format(_ value: Double, digits: Int = 2) -> String {
    guard value.isFinite else { return "0" }
    // A loss of 1e17 is finite and plotted; as an Int it would overflow.
    guard Swift.abs(value) < 1e15 else { return String(format: "%.\(Swift.max(digits, 1))g", value) }
    let scale = Double.pow(10, Double(digits))
    let rounded = (value * scale).rounded() / scale
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return "\(rounded)"
}

/// Escapes the characters XML reserves.
func escapeXML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
