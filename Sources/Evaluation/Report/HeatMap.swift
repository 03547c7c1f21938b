import Environments
import Foundation

/// A heat map of one number per (row, column): viridis colours (colour-blind safe, ordered in
/// lightness), each value printed in its cell in black or white for contrast, column labels
/// turned upright so they never overlap, axis titles, and a colour scale with nice ticks.
/// `darkerIsLarger` says which end of the values is the attacker's success (a large reward drop,
/// a low attacked return), which gets the dark colours.
struct HeatMap {
    var title: String
    var rowTitle: String
    var columnTitle: String
    var scaleTitle: String
    var rows: [(label: String, detail: String)]
    var columns: [(label: String, detail: String)]
    var darkerIsLarger: Bool
    var value: (Int, Int) -> Double?

    static let labelSize = 10
    static let titleSize = 12
    static let cell = 46.0

    /// Viridis at nine evenly spaced points (from matplotlib's published colour map).
    static let viridis: [(Double, Double, Double)] = [
        (68, 1, 84), (71, 45, 123), (59, 82, 139), (44, 114, 142), (33, 145, 140), (40, 174, 128), (94, 201, 98),
        (173, 220, 48), (253, 231, 37),
    ]

    /// The colour at `t` ∈ [0, 1] (0 dark purple, 1 yellow) and whether text on it should be white.
    static func colour(_ t: Double) -> (hex: String, darkText: Bool) {
        let position = min(max(t, 0), 1) * Double(viridis.count - 1)
        let i = min(Int(position), viridis.count - 2)
        let f = position - Double(i)
        let (a, b) = (viridis[i], viridis[i + 1])
        let rgb = [a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1), a.2 + f * (b.2 - a.2)]
        // Relative luminance (sRGB), the WCAG measure: black text above about 0.18.
        let linear = rgb.map { c -> Double in
            let s = c / 255
            return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4)
        }
        let luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        return (
            String(format: "#%02x%02x%02x", Int(rgb[0].rounded()), Int(rgb[1].rounded()), Int(rgb[2].rounded())), luminance > 0.18
        )
    }

    var svg: String {
        let values = rows.indices.flatMap { r in columns.indices.compactMap { value(r, $0) } }.filter(\.isFinite)
        let axis = ChartAxis(covering: values.min() ?? 0, values.max() ?? 1)
        func shade(_ v: Double) -> (hex: String, darkText: Bool) {
            let t = (v - axis.lower) / (axis.upper - axis.lower)
            return Self.colour(darkerIsLarger ? 1 - t : t)
        }
        let size = Double(Self.labelSize)
        let rowLabelWidth = (rows.map(\.label) + [rowTitle]).map { SVG.textWidth($0, size: Self.labelSize) }.max() ?? 0
        let columnLabelHeight = columns.map { SVG.textWidth($0.label, size: Self.labelSize) }.max() ?? 0
        let left = 8 + rowLabelWidth + 8
        // The row title sits above the row labels, under the figure title.
        let top = 8 + Double(Self.titleSize) + 8 + size + 6
        let gridRight = left + Self.cell * Double(columns.count)
        let gridBottom = top + Self.cell * Double(rows.count)
        let scaleBottom = top + max(gridBottom - top, 150)
        let scaleLeft = gridRight + 18
        let scaleLabels = axis.ticks.map(axis.label)
        // The scale's title stands upright right of its tick labels.
        let scaleTitleX =
            scaleLeft + 20 + (scaleLabels.map { SVG.textWidth($0, size: Self.labelSize) }.max() ?? 0) + 12 + 0.8 * size
        let scaleWidth = scaleTitleX - scaleLeft + 0.2 * size + 8
        let columnTitleY = gridBottom + 8 + columnLabelHeight + 8 + size
        let width = max(scaleLeft + scaleWidth, SVG.textWidth(title, size: Self.titleSize) + 16).rounded(.up)
        let height = max(columnTitleY + 8, scaleBottom + 8).rounded(.up)
        let cellText = columns.indices.flatMap { c in rows.indices.compactMap { r in value(r, c).map { Self.format($0) } } }
        let valueSize = (cellText.map { SVG.textWidth($0, size: Self.labelSize) }.max() ?? 0) > Self.cell - 6 ? 8 : Self.labelSize
        return SVG.document(width: Int(width), height: Int(height)) {
            SVG.text(x: 8, y: 8 + Double(Self.titleSize), title, size: Self.titleSize, bold: true, className: "figure-title")
            SVG.text(x: left - 8, y: top - 6, rowTitle, size: Self.labelSize, anchor: .end, className: "axis-title")
            for (r, row) in rows.enumerated() {
                SVG.titled(
                    row.detail,
                    [
                        SVG.text(
                            x: left - 8, y: top + (Double(r) + 0.5) * Self.cell + size / 3, row.label, size: Self.labelSize,
                            anchor: .end, className: "row-label")
                    ])
                for c in columns.indices {
                    let v = value(r, c)
                    let (fill, darkText) = v.map(shade) ?? ("#eeeeee", true)
                    SVG.titled(
                        "\(row.detail) × \(columns[c].detail): \(v.map { String(format: "%.2f", $0) } ?? "no cell")",
                        [
                            SVG.rect(
                                x: left + Double(c) * Self.cell, y: top + Double(r) * Self.cell, width: Self.cell - 2,
                                height: Self.cell - 2, fill: fill),
                            SVG.text(
                                x: left + (Double(c) + 0.5) * Self.cell - 1, y: top + (Double(r) + 0.5) * Self.cell + size / 3,
                                v.map(Self.format) ?? "—", size: valueSize, anchor: .middle, fill: darkText ? "#000" : "#fff",
                                className: "cell-value"),
                        ])
                }
            }
            for (c, column) in columns.enumerated() {
                SVG.titled(
                    column.detail,
                    [
                        SVG.text(
                            x: left + (Double(c) + 0.5) * Self.cell + size / 3, y: gridBottom + 8, column.label,
                            size: Self.labelSize, anchor: .end, rotation: -90, className: "column-label")
                    ])
            }
            SVG.text(
                x: (left + gridRight) / 2, y: columnTitleY, columnTitle, size: Self.labelSize, anchor: .middle,
                className: "axis-title")
            // The colour scale: a column of small blocks from the axis's lower to its upper end.
            let steps = 48
            let blockHeight = (scaleBottom - top) / Double(steps)
            for k in 0..<steps {
                let v = axis.upper - (Double(k) + 0.5) / Double(steps) * (axis.upper - axis.lower)
                SVG.rect(x: scaleLeft, y: top + Double(k) * blockHeight, width: 14, height: blockHeight + 0.5, fill: shade(v).hex)
            }
            for (tick, label) in zip(axis.ticks, scaleLabels) {
                let ty = axis.position(tick, from: scaleBottom, to: top)
                SVG.line(x1: scaleLeft + 14, y1: ty, x2: scaleLeft + 18, y2: ty, stroke: "#000", width: 1)
                SVG.text(x: scaleLeft + 20, y: ty + size / 3, label, size: Self.labelSize, className: "tick-scale")
            }
            SVG.text(
                x: scaleTitleX, y: (top + scaleBottom) / 2, scaleTitle, size: Self.labelSize, anchor: .middle,
                rotation: -90, className: "axis-title")
        }
    }

    /// A cell's value, short enough for its cell.
    static func format(_ value: Double) -> String { String(format: abs(value) >= 1000 ? "%.0f" : "%.1f", value) }
}
