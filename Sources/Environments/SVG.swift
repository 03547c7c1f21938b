import Foundation

/// Minimal SVG writing for environment frames: each function returns one element.
public enum SVG {
    @resultBuilder
    public enum Builder {
        public static func buildBlock(_ parts: String...) -> [String] { parts }
        public static func buildBlock(_ parts: [String]...) -> [String] { parts.flatMap { $0 } }
        public static func buildExpression(_ part: String) -> [String] { [part] }
        public static func buildExpression(_ parts: [String]) -> [String] { parts }
        public static func buildArray(_ parts: [[String]]) -> [String] { parts.flatMap { $0 } }
        public static func buildOptional(_ parts: [String]?) -> [String] { parts ?? [] }
        public static func buildEither(first parts: [String]) -> [String] { parts }
        public static func buildEither(second parts: [String]) -> [String] { parts }
    }

    /// A complete SVG document of the given size with a white background.
    public static func document(width: Int, height: Int, @Builder _ body: () -> [String]) -> String {
        let header =
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(width)" height="\##(height)" viewBox="0 0 \##(width) \##(height)">"##
        let background = ##"<rect width="\##(width)" height="\##(height)" fill="#fff"/>"##
        return ([header, background] + body() + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    static func number(_ value: Double) -> String { String(format: "%.2f", value) }

    /// A line; `dash` is an SVG `stroke-dasharray` ("4 3").
    public static func line(
        x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 2, dash: String? = nil
    ) -> String {
        let dashing = dash.map { ##" stroke-dasharray="\##($0)""## } ?? ""
        return
            ##"<line x1="\##(number(x1))" y1="\##(number(y1))" x2="\##(number(x2))" y2="\##(number(y2))" stroke="\##(stroke)" stroke-width="\##(number(width))" stroke-linecap="round"\##(dashing)/>"##
    }

    public static func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil) -> String {
        let outline = stroke.map { ##" stroke="\##($0)""## } ?? ""
        return
            ##"<rect x="\##(number(x))" y="\##(number(y))" width="\##(number(width))" height="\##(number(height))" fill="\##(fill)"\##(outline)/>"##
    }

    public static func circle(cx: Double, cy: Double, r: Double, fill: String) -> String {
        ##"<circle cx="\##(number(cx))" cy="\##(number(cy))" r="\##(number(r))" fill="\##(fill)"/>"##
    }

    public static func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) -> String {
        let list = points.map { "\(number($0.0)),\(number($0.1))" }.joined(separator: " ")
        let dashing = dash.map { ##" stroke-dasharray="\##($0)""## } ?? ""
        return
            ##"<polyline points="\##(list)" fill="none" stroke="\##(stroke)" stroke-width="\##(number(width))"\##(dashing)/>"##
    }

    public static func polygon(_ points: [(Double, Double)], fill: String, opacity: Double = 1) -> String {
        let list = points.map { "\(number($0.0)),\(number($0.1))" }.joined(separator: " ")
        let translucency = opacity < 1 ? ##" fill-opacity="\##(number(opacity))""## : ""
        return ##"<polygon points="\##(list)" fill="\##(fill)"\##(translucency)/>"##
    }

    /// Text escaped for SVG/XML character data and attribute values.
    public static func escaped(_ content: String) -> String {
        content.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// How a text's `x` relates to its extent.
    public enum Anchor: String, Sendable { case start, middle, end }

    /// A text element; `rotation` (degrees) turns it about its anchor point, `className` lets a
    /// page's script or style find it.
    public static func text(
        x: Double, y: Double, _ content: String, size: Int = 14, anchor: Anchor = .start, rotation: Double = 0,
        fill: String? = nil, bold: Bool = false, className: String? = nil
    ) -> String {
        var attributes = ##"x="\##(number(x))" y="\##(number(y))" font-family="monospace" font-size="\##(size)""##
        if anchor != .start { attributes += ##" text-anchor="\##(anchor.rawValue)""## }
        if rotation != 0 { attributes += ##" transform="rotate(\##(number(rotation)) \##(number(x)) \##(number(y)))""## }
        if let fill { attributes += ##" fill="\##(fill)""## }
        if bold { attributes += ##" font-weight="bold""## }
        if let className { attributes += ##" class="\##(className)""## }
        return "<text \(attributes)>\(escaped(content))</text>"
    }

    /// `elements` in a group whose `<title>` is the hover text.
    public static func titled(_ title: String, _ elements: [String]) -> String {
        "<g><title>\(escaped(title))</title>" + elements.joined() + "</g>"
    }

    /// Monospace glyphs are this wide, in font sizes (DejaVu Sans Mono, Liberation Mono: 0.6 em):
    /// what figure layout uses to keep labels apart and inside their view box.
    public static let monospaceAdvance = 0.6

    /// The width of `content` set in the monospace font at `size`.
    public static func textWidth(_ content: String, size: Int) -> Double {
        Double(content.count) * Double(size) * monospaceAdvance
    }
}
