import Environments
import Foundation

/// A line chart of return vs ε: one line per attack with its 95% band and markers, nice ticks
/// with gridlines on both axes, axis titles, the clean return as a dashed reference line, and a
/// legend under the plot (hover over a line or a legend entry for the full spec). Laid out for a
/// paper column — 480 units wide, wider only when a label needs it — from the monospace glyph
/// width, so no text leaves the view box or overlaps another.
struct LineChart {
    struct Point {
        var x: Double
        var mean: Double
        var low: Double
        var high: Double
    }

    struct Series {
        var label: String
        /// Hover text: the full spec.
        var detail: String
        var colour: String
        var dash: String?
        var points: [Point]
    }

    var title: String
    var xTitle: String
    var yTitle: String
    /// The dashed reference line and its label ("clean 500.0").
    var reference: (value: Double, label: String)?
    var series: [Series]

    static let tickSize = 10
    static let titleSize = 12
    static let axisTitleSize = 11
    static let legendSize = 10
    static let plotHeight = 220.0
    static let legendRow = 16.0
    static let swatch = 22.0

    var svg: String {
        let values = series.flatMap { $0.points.flatMap { [$0.mean, $0.low, $0.high] } } + [reference?.value].compactMap { $0 }
        let finite = values.filter(\.isFinite)
        let xs = series.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        let yAxis = ChartAxis(covering: finite.min() ?? 0, finite.max() ?? 1)
        let xAxis = ChartAxis(covering: xs.min() ?? 0, xs.max() ?? 1)
        let yLabels = yAxis.ticks.map(yAxis.label)
        let tickWidth = yLabels.map { SVG.textWidth($0, size: Self.tickSize) }.max() ?? 0
        let left = 8 + Double(Self.axisTitleSize) + 8 + tickWidth + 6
        let legendWidth = (series.map { SVG.textWidth($0.label, size: Self.legendSize) }.max() ?? 0) + Self.swatch + 8
        let width = max(480, left + legendWidth + 12, SVG.textWidth(title, size: Self.titleSize) + 16).rounded(.up)
        let right = width - 12 - SVG.textWidth(xAxis.label(xAxis.upper), size: Self.tickSize) / 2
        let top = 8 + Double(Self.titleSize) + 12
        let bottom = top + Self.plotHeight
        let columns = max(1, Int((width - left - 8) / (legendWidth + 16)))
        let legendTop = bottom + Double(Self.tickSize) + 12 + Double(Self.axisTitleSize) + 16
        let legendRows = (series.count + columns - 1) / columns
        let height = (legendTop + Double(legendRows) * Self.legendRow + 6).rounded(.up)
        func x(_ value: Double) -> Double { xAxis.position(value, from: left, to: right) }
        func y(_ value: Double) -> Double { yAxis.position(value, from: bottom, to: top) }
        return SVG.document(width: Int(width), height: Int(height)) {
            SVG.text(x: 8, y: 8 + Double(Self.titleSize), title, size: Self.titleSize, bold: true, className: "figure-title")
            for (tick, label) in zip(yAxis.ticks, yLabels) {
                SVG.line(x1: left, y1: y(tick), x2: right, y2: y(tick), stroke: "#e3e3e3", width: 1)
                SVG.text(x: left - 6, y: y(tick) + 3.5, label, size: Self.tickSize, anchor: .end, className: "tick-y")
            }
            for tick in xAxis.ticks {
                SVG.line(x1: x(tick), y1: top, x2: x(tick), y2: bottom, stroke: "#e3e3e3", width: 1)
                SVG.text(
                    x: x(tick), y: bottom + Double(Self.tickSize) + 8, xAxis.label(tick), size: Self.tickSize, anchor: .middle,
                    className: "tick-x")
            }
            SVG.line(x1: left, y1: bottom, x2: right, y2: bottom, stroke: "#000", width: 1)
            SVG.line(x1: left, y1: top, x2: left, y2: bottom, stroke: "#000", width: 1)
            SVG.text(
                x: (left + right) / 2, y: bottom + Double(Self.tickSize) + 12 + Double(Self.axisTitleSize), xTitle,
                size: Self.axisTitleSize, anchor: .middle, className: "axis-title")
            SVG.text(
                x: 8 + Double(Self.axisTitleSize), y: (top + bottom) / 2, yTitle, size: Self.axisTitleSize, anchor: .middle,
                rotation: -90, className: "axis-title")
            if let reference, reference.value.isFinite {
                SVG.line(
                    x1: left, y1: y(reference.value), x2: right, y2: y(reference.value), stroke: "#555", width: 1, dash: "3 3")
                // Above the line, or below it when the line runs along the top of the plot.
                let above = y(reference.value) - 4 - Double(Self.tickSize) > top
                SVG.text(
                    x: right - 4, y: y(reference.value) + (above ? -4 : Double(Self.tickSize) + 2), reference.label,
                    size: Self.tickSize, anchor: .end, fill: "#555", className: "reference-label")
            }
            for line in series {
                let points = line.points.filter { $0.mean.isFinite }
                let banded = points.filter { $0.low.isFinite && $0.high.isFinite }
                SVG.titled(
                    line.detail,
                    (banded.count > 1
                        ? [
                            SVG.polygon(
                                banded.map { (x($0.x), y($0.high)) } + banded.reversed().map { (x($0.x), y($0.low)) },
                                fill: line.colour, opacity: 0.12)
                        ] : [])
                        + [SVG.polyline(points.map { (x($0.x), y($0.mean)) }, stroke: line.colour, dash: line.dash)]
                        + points.map { SVG.circle(cx: x($0.x), cy: y($0.mean), r: 2.5, fill: line.colour) })
            }
            for (index, line) in series.enumerated() {
                let entryX = left + Double(index % columns) * (legendWidth + 16)
                let entryY = legendTop + Double(index / columns) * Self.legendRow
                SVG.titled(
                    line.detail,
                    [
                        SVG.line(
                            x1: entryX, y1: entryY - 3.5, x2: entryX + Self.swatch - 4, y2: entryY - 3.5, stroke: line.colour,
                            width: 2.5, dash: line.dash),
                        SVG.text(
                            x: entryX + Self.swatch + 2, y: entryY, line.label, size: Self.legendSize, className: "legend-label"),
                    ])
            }
        }
    }
}
