import Environments
import Foundation

/// The most damaging attack's first flipped action as one figure: the environment at that step
/// (its own picture, scaled) beside a bar chart of the perturbation per observation dimension,
/// with the action the policy would have taken and the one it took.
struct FlipFigure {
    var step: EpisodePlayer.FlippedStep
    var title: String

    static let frameWidth = 200.0
    static let size = 10

    var svg: String {
        let size = Double(Self.size)
        let actions = ["would have taken \(step.cleanAction)", "took \(step.action)"]
        let width = max(480, (actions.map { SVG.textWidth($0, size: 11) }.max() ?? 0) + 16).rounded(.up)
        let top = 8 + 12 + 10.0
        let frame = Self.nested(step.frame, x: 8, y: top, width: Self.frameWidth)
        let deltas = step.perturbation.map(Double.init)
        let axis = ChartAxis(covering: min(deltas.min() ?? 0, 0), max(deltas.max() ?? 0, 0))
        let tickLabels = axis.ticks.map(axis.label)
        let chartLeft =
            8 + Self.frameWidth + 16 + size + 8 + (tickLabels.map { SVG.textWidth($0, size: Self.size) }.max() ?? 0) + 6
        let chartRight = width - 10
        let chartTop = top
        let chartBottom = top + 150
        let n = max(deltas.count, 1)
        let every = max(1, Int((Double(n) / 8).rounded(.up)))
        let slot = (chartRight - chartLeft) / Double(n)
        let captionY = max(top + frame.height, chartBottom + size + 8 + size + 6) + 16
        func y(_ value: Double) -> Double { axis.position(value, from: chartBottom, to: chartTop) }
        return SVG.document(width: Int(width), height: Int((captionY + 16 + 6).rounded(.up))) {
            SVG.text(x: 8, y: 20, title, size: 12, bold: true, className: "figure-title")
            frame.svg
            for (tick, label) in zip(axis.ticks, tickLabels) {
                SVG.line(x1: chartLeft, y1: y(tick), x2: chartRight, y2: y(tick), stroke: "#e3e3e3", width: 1)
                SVG.text(x: chartLeft - 6, y: y(tick) + size / 3, label, size: Self.size, anchor: .end, className: "tick-y")
            }
            for (j, delta) in deltas.enumerated() {
                let (a, b) = (y(0), y(delta))
                SVG.titled(
                    "δ[\(j)] = \(String(format: "%.4g", delta))",
                    [
                        SVG.rect(
                            x: chartLeft + (Double(j) + 0.15) * slot, y: min(a, b), width: slot * 0.7,
                            height: max(abs(a - b), 0.5),
                            fill: "#0072B2")
                    ])
                if j % every == 0 {
                    SVG.text(
                        x: chartLeft + (Double(j) + 0.5) * slot, y: chartBottom + size + 4, "\(j)", size: Self.size,
                        anchor: .middle,
                        className: "dimension-label")
                }
            }
            SVG.line(x1: chartLeft, y1: y(0), x2: chartRight, y2: y(0), stroke: "#000", width: 1)
            SVG.text(
                x: (chartLeft + chartRight) / 2, y: chartBottom + size + 8 + size, "observation dimension", size: Self.size,
                anchor: .middle, className: "axis-title")
            SVG.text(
                x: 8 + Self.frameWidth + 16 + size, y: (chartTop + chartBottom) / 2, "perturbation δ", size: Self.size,
                anchor: .middle, rotation: -90, className: "axis-title")
            for (line, text) in actions.enumerated() {
                SVG.text(x: 8, y: captionY + Double(line) * 16, text, size: 11, className: "flip-actions")
            }
        }
    }

    /// An environment picture (an SVG document as `SVG.document` writes it) placed at (x, y),
    /// scaled to `width`; and its height there.
    static func nested(_ document: String, x: Double, y: Double, width: Double) -> (svg: String, height: Double) {
        let header = document.prefix { $0 != ">" }
        func attribute(_ name: String) -> Double? {
            guard let range = header.range(of: " \(name)=\"") else { return nil }
            return Double(header[range.upperBound...].prefix { $0 != "\"" })
        }
        guard let w = attribute("width"), let h = attribute("height"), w > 0 else { return ("", 0) }
        let height = width * h / w
        let body = document.drop { $0 != ">" }.dropFirst()
        let placed =
            ##"<svg x="\##(String(format: "%.2f", x))" y="\##(String(format: "%.2f", y))" width="\##(String(format: "%.2f", width))" height="\##(String(format: "%.2f", height))" viewBox="0 0 \##(w) \##(h)">"##
        return (placed + body, height)
    }
}
