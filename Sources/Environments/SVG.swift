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

    public static func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 2) -> String {
        ##"<line x1="\##(number(x1))" y1="\##(number(y1))" x2="\##(number(x2))" y2="\##(number(y2))" stroke="\##(stroke)" stroke-width="\##(number(width))" stroke-linecap="round"/>"##
    }

    public static func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil) -> String {
        let outline = stroke.map { ##" stroke="\##($0)""## } ?? ""
        return
            ##"<rect x="\##(number(x))" y="\##(number(y))" width="\##(number(width))" height="\##(number(height))" fill="\##(fill)"\##(outline)/>"##
    }

    public static func circle(cx: Double, cy: Double, r: Double, fill: String) -> String {
        ##"<circle cx="\##(number(cx))" cy="\##(number(cy))" r="\##(number(r))" fill="\##(fill)"/>"##
    }

    public static func polyline(_ points: [(Double, Double)], stroke: String) -> String {
        let list = points.map { "\(number($0.0)),\(number($0.1))" }.joined(separator: " ")
        return ##"<polyline points="\##(list)" fill="none" stroke="\##(stroke)" stroke-width="2"/>"##
    }

    public static func polygon(_ points: [(Double, Double)], fill: String) -> String {
        let list = points.map { "\(number($0.0)),\(number($0.1))" }.joined(separator: " ")
        return ##"<polygon points="\##(list)" fill="\##(fill)"/>"##
    }

    public static func text(x: Double, y: Double, _ content: String, size: Int = 14) -> String {
        let escaped = content.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        return ##"<text x="\##(number(x))" y="\##(number(y))" font-family="monospace" font-size="\##(size)">\##(escaped)</text>"##
    }
}
