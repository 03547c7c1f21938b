import Environments
import Foundation
import GRDB
import Linalg

/// A report of a results database: Markdown and one self-contained HTML page (no network
/// fetches) with SVG figures — return vs ε per policy (one line per attack, 95% bands, and the
/// strongest attack per episode), and a reward-drop heat map (policy × attack at the largest ε).
public struct Report {
    public var store: ResultsStore
    /// Vanilla policies the others are compared with at ε* (`DefenseTable`), if any.
    public var baselines: [String]

    public init(store: ResultsStore, baselines: [String] = []) {
        self.store = store
        self.baselines = baselines
    }

    struct Point {
        var epsilon: Double
        var mean: Double
        var low: Double
        var high: Double
    }

    /// Per policy: per attack, the attacked return at each ε with its interval; and the
    /// strongest attack per episode (minimum over attacks) at each ε.
    func curves() throws -> [(policy: String, clean: Double, attacks: [(String, [Point])], strongest: [Point])] {
        let rows = try store.rows()
        var result: [(String, Double, [(String, [Point])], [Point])] = []
        for policy in Array(Set(rows.map(\.policy))).sorted() {
            let mine = rows.filter { $0.policy == policy }
            var attacks: [(String, [Point])] = []
            for attack in Array(Set(mine.map(\.attack))).sorted() {
                let points = try mine.filter { $0.attack == attack }.sorted { $0.epsilon < $1.epsilon }.map { row -> Point in
                    let interval = try store.attackedInterval(policy: policy, attack: attack, epsilon: row.epsilon)
                    return Point(epsilon: row.epsilon, mean: row.attackedMean, low: interval.0, high: interval.1)
                }
                attacks.append((attack, points))
            }
            let strongest = try store.strongestPerEpisode(policy: policy).map { epsilon, returns -> Point in
                let interval = ConfidenceInterval.bootstrapMean(returns, resamples: 2_000, random: RandomStream(seed: 0))
                return Point(epsilon: epsilon, mean: Statistics.mean(returns), low: interval.lower, high: interval.upper)
            }
            result.append((policy, mine.first?.cleanMean ?? 0, attacks, strongest))
        }
        return result
    }

    static let palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]

    /// An SVG line chart of return vs ε with bands.
    static func curveFigure(title: String, clean: Double, series: [(String, [Point])]) -> String {
        let width = 760.0
        let height = 380.0
        let left = 60.0
        let right = 320.0
        let top = 30.0
        let bottom = 40.0
        let points = series.flatMap(\.1)
        let epsilons = points.map(\.epsilon)
        let (xMin, xMax) = (epsilons.min() ?? 0, max(epsilons.max() ?? 1, (epsilons.min() ?? 0) + 1e-9))
        let values = points.flatMap { [$0.low, $0.high] } + [clean]
        let (yMin, yMax) = (values.min() ?? 0, max(values.max() ?? 1, (values.min() ?? 0) + 1e-9))
        func x(_ e: Double) -> Double { left + (e - xMin) / (xMax - xMin) * (width - left - right) }
        func y(_ v: Double) -> Double { top + (1 - (v - yMin) / (yMax - yMin)) * (height - top - bottom) }
        return SVG.document(width: Int(width), height: Int(height)) {
            SVG.text(x: left, y: 18, title, size: 13)
            SVG.line(x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, stroke: "#000", width: 1)
            SVG.line(x1: left, y1: top, x2: left, y2: height - bottom, stroke: "#000", width: 1)
            SVG.text(x: left - 55, y: y(yMax) + 4, String(format: "%.1f", yMax), size: 10)
            SVG.text(x: left - 55, y: y(yMin) + 4, String(format: "%.1f", yMin), size: 10)
            SVG.text(x: x(xMin) - 5, y: height - bottom + 16, String(format: "%g", xMin), size: 10)
            SVG.text(x: x(xMax) - 10, y: height - bottom + 16, String(format: "%g", xMax), size: 10)
            SVG.text(x: (left + width - right) / 2, y: height - 8, "ε", size: 12)
            SVG.line(x1: left, y1: y(clean), x2: width - right, y2: y(clean), stroke: "#aaa", width: 1)
            for (index, (name, line)) in series.enumerated() {
                let colour = palette[index % palette.count]
                let band = line.map { (x($0.epsilon), y($0.high)) } + line.reversed().map { (x($0.epsilon), y($0.low)) }
                #"<polygon points="\#(band.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " "))" fill="\#(colour)" fill-opacity="0.15" stroke="none"/>"#
                SVG.polyline(line.map { (x($0.epsilon), y($0.mean)) }, stroke: colour)
                SVG.rect(x: width - right + 10, y: top + Double(index) * 18, width: 10, height: 10, fill: colour)
                SVG.text(x: width - right + 26, y: top + Double(index) * 18 + 9, String(name.prefix(52)), size: 10)
            }
        }
    }

    /// An SVG heat map of the mean reward drop, policies × attacks.
    static func heatMap(title: String, policies: [String], attacks: [String], drop: (String, String) -> Double?) -> String {
        let cell = 60.0
        let left = 220.0
        let top = 40.0
        let width = max(Int(left + cell * Double(attacks.count) + 20), title.count * 8 + 20)
        let height = Int(top + cell * Double(policies.count) + 120)
        let values = policies.flatMap { p in attacks.compactMap { drop(p, $0) } }
        let maximum = max(values.max() ?? 1, 1e-9)
        return SVG.document(width: width, height: height) {
            SVG.text(x: 10, y: 20, title, size: 13)
            for (i, policy) in policies.enumerated() {
                SVG.text(
                    x: 10, y: top + Double(i) * cell + cell / 2 + 4, String(policy.split(separator: "/").last ?? ""), size: 10)
                for (j, attack) in attacks.enumerated() {
                    let value = drop(policy, attack)
                    let shade = Int(255 - 200 * max(0, (value ?? 0) / maximum))
                    SVG.rect(
                        x: left + Double(j) * cell, y: top + Double(i) * cell, width: cell - 2, height: cell - 2,
                        fill: value == nil ? "#eee" : String(format: "#ff%02x%02x", shade, shade))
                    SVG.text(
                        x: left + Double(j) * cell + 6, y: top + Double(i) * cell + cell / 2 + 4,
                        value.map { String(format: "%.1f", $0) } ?? "—", size: 10)
                }
            }
            for (j, attack) in attacks.enumerated() {
                SVG.text(
                    x: left + Double(j) * cell + 2, y: top + Double(policies.count) * cell + 14 + Double(j % 4) * 12,
                    String((attack.split(separator: "/").last ?? "").split(separator: ":").first ?? ""), size: 10)
            }
        }
    }

    /// Opened with `#selftest`, the page checks itself and writes the verdict into
    /// `<pre id="selftest">` (what the headless-Chromium test reads): every figure has a non-zero
    /// size, the player's step control advances a frame, and no script error occurred.
    static let selfTest = """
        <pre id="selftest"></pre>
        <script>
        window.addEventListener("load", function () {
          if (location.hash !== "#selftest") return;
          var problems = [];
          document.querySelectorAll("figure svg").forEach(function (svg, i) {
            var box = svg.getBoundingClientRect();
            if (!(box.width > 0 && box.height > 0)) problems.push("figure " + i + " has no size");
          });
          if (document.querySelectorAll("figure svg").length === 0) problems.push("no figures");
          var frame = document.getElementById("player-frame");
          if (!frame) { problems.push("no episode player"); } else {
            var before = Number(frame.textContent);
            document.getElementById("player-step").click();
            if (Number(frame.textContent) !== before + 1) problems.push("step did not advance the frame");
          }
          window.reportErrors.forEach(function (e) { problems.push("script error: " + e); });
          document.getElementById("selftest").textContent = problems.length === 0 ? "SELFTEST OK" : "SELFTEST FAILED: " + problems.join("; ");
        });
        </script>

        """

    /// A heat map of transfer attacks in the database (cells `transfer:…surrogate=A…` on policy
    /// B) at the largest ε they were run: rows the surrogate, columns the victim.
    static func transferMatrix(_ rows: [ResultsStore.Row]) -> (epsilon: Double, svg: String)? {
        func surrogate(_ attack: String) -> String? {
            guard attack.hasPrefix("transfer:") else { return nil }
            return attack.split(separator: ",").first { $0.contains("surrogate=") }.map { String($0.split(separator: "=").last!) }
        }
        let transfers = rows.filter { surrogate($0.attack) != nil && $0.epsilon > 0 }
        guard let epsilon = transfers.map(\.epsilon).max() else { return nil }
        let atEpsilon = transfers.filter { $0.epsilon == epsilon }
        let sources = Array(Set(atEpsilon.compactMap { surrogate($0.attack) })).sorted()
        let victims = Array(Set(atEpsilon.map(\.policy))).sorted()
        let svg = heatMap(
            title: "Attacked return: PGD crafted on the row's policy, applied to the column's (ε = \(epsilon))",
            policies: sources, attacks: victims
        ) { source, victim in
            atEpsilon.first { surrogate($0.attack) == source && $0.policy == victim }?.attackedMean
        }
        return (epsilon, svg)
    }

    /// Writes `report.md`, `report.html` and the figures into `directory`.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let rows = try store.rows()
        var figures: [(file: String, title: String, svg: String)] = []
        for (index, curve) in try curves().enumerated() {
            let series = curve.attacks + [("strongest (per episode)", curve.strongest)]
            figures.append(
                (
                    "return-vs-epsilon-\(index + 1).svg", "Return vs ε: \(curve.policy)",
                    Self.curveFigure(
                        title: "\(curve.policy) (clean \(String(format: "%.1f", curve.clean)))", clean: curve.clean,
                        series: series)
                ))
        }
        if let largest = rows.map(\.epsilon).max() {
            let atLargest = rows.filter { $0.epsilon == largest }
            let policies = Array(Set(atLargest.map(\.policy))).sorted()
            let attacks = Array(Set(atLargest.map(\.attack))).sorted()
            figures.append(
                (
                    "reward-drop.svg", "Reward drop at ε = \(largest)",
                    Self.heatMap(title: "Mean reward drop at ε = \(largest)", policies: policies, attacks: attacks) { p, a in
                        atLargest.first { $0.policy == p && $0.attack == a }?.dropMean
                    }
                ))
        }
        if let matrix = Self.transferMatrix(rows) {
            figures.append(("transfer-matrix.svg", "Transfer matrix at ε = \(matrix.epsilon)", matrix.svg))
        }
        let player = try EpisodePlayer.section(store: store)
        if let flip = player?.flipFigure { figures.append(("most-damaging-step.svg", flip.caption, flip.svg)) }
        for figure in figures {
            try figure.svg.write(to: directory.appendingPathComponent(figure.file), atomically: true, encoding: .utf8)
        }
        let defenseTables = try DefenseTable.compute(store: store, baselines: baselines)
        var markdown = "# Robustness report\n\n"
        if !defenseTables.isEmpty { markdown += "## Defenses at ε*\n\n" + defenseTables.map(\.markdown).joined() }
        for figure in figures { markdown += "## \(figure.title)\n\n![\(figure.title)](\(figure.file))\n\n" }
        let warnings = try store.database.read { db in
            try String.fetchAll(
                db, sql: "SELECT \"check\" || ': ' || message FROM warnings ORDER BY cell_key, \"check\", message")
        }
        markdown +=
            "## Sanity checks\n\n"
            + (warnings.isEmpty ? "No warnings.\n\n" : warnings.map { "- warning \($0)\n" }.joined() + "\n")
        markdown +=
            "## Cells\n\n| policy | attack | ε | clean | attacked | drop [95% CI] | flips |\n|---|---|---|---|---|---|---|\n"
        for r in rows {
            markdown += String(
                format: "| %@ | `%@` | %g | %.1f | %.1f | %.1f [%.1f, %.1f] | %.1f%% |\n", r.policy, r.attack, r.epsilon,
                r.cleanMean,
                r.attackedMean, r.dropMean, r.dropLow, r.dropHigh, 100 * r.flipRate)
        }
        try markdown.write(to: directory.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
        var html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Robustness report</title>"
        html +=
            "<script>window.reportErrors = []; window.addEventListener('error', function (e) { window.reportErrors.push(String(e.message)); });</script>"
        html +=
            "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}figure{margin:1em 0}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}</style></head><body>\n<h1>Robustness report</h1>\n"
        for figure in figures {
            html += "<figure class=\"figure\"><figcaption>\(figure.title)</figcaption>\n" + figure.svg + "</figure>\n"
        }
        if !defenseTables.isEmpty {
            html += "<h2>Defenses at ε*</h2>\n"
            for table in defenseTables {
                html += "<h3>\(table.title)</h3>\n<table><tr>" + DefenseTable.header.map { "<th>\($0)</th>" }.joined() + "</tr>\n"
                for row in table.cells { html += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>\n" }
                html += "</table>\n"
            }
        }
        if let player { html += player.html }
        html +=
            "<h2>Sanity checks</h2>\n"
            + (warnings.isEmpty
                ? "<p>No warnings.</p>\n"
                : "<ul>" + warnings.map { "<li>warning \($0.replacingOccurrences(of: "<", with: "&lt;"))</li>" }.joined()
                    + "</ul>\n")
        html +=
            "<table><tr><th>policy</th><th>attack</th><th>ε</th><th>clean</th><th>attacked</th><th>drop</th><th>flips</th></tr>\n"
        for r in rows {
            html += String(
                format:
                    "<tr><td>%@</td><td>%@</td><td>%g</td><td>%.1f</td><td>%.1f</td><td>%.1f [%.1f, %.1f]</td><td>%.1f%%</td></tr>\n",
                r.policy, r.attack, r.epsilon, r.cleanMean, r.attackedMean, r.dropMean, r.dropLow, r.dropHigh, 100 * r.flipRate)
        }
        html += "</table>\n" + Self.selfTest + "</body></html>\n"
        try html.write(to: directory.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
    }
}

extension ResultsStore {
    /// The attacked return's 95% interval of one cell (seed 0 first), from its stored report.
    func attackedInterval(policy: String, attack: String, epsilon: Double) throws -> (Double, Double) {
        try database.read { db in
            guard
                let json = try String.fetchOne(
                    db, sql: "SELECT report FROM cells WHERE policy = ? AND attack = ? AND epsilon = ? ORDER BY seed LIMIT 1",
                    arguments: [policy, attack, epsilon]),
                case .object(let report)? = try? JSONValue.parse(Data(json.utf8)),
                let ci = report["attacked"]?.object?["ci95"]?.numbers, ci.count == 2
            else { return (.nan, .nan) }
            return (ci[0], ci[1])
        }
    }

    /// Per ε, each episode's lowest attacked return over the attacks (the strongest attack).
    func strongestPerEpisode(policy: String) throws -> [(Double, [Double])] {
        try database.read { db in
            let rows = try GRDB.Row.fetchAll(
                db,
                sql: """
                    SELECT c.epsilon AS epsilon, e.seed AS seed, MIN(e.attacked_return) AS worst
                    FROM cells c JOIN episodes e ON e.cell_key = c.key
                    WHERE c.policy = ? GROUP BY c.epsilon, e.seed ORDER BY c.epsilon, e.seed
                    """, arguments: [policy])
            var grouped: [Double: [Double]] = [:]
            for row in rows { grouped[row["epsilon"], default: []].append(row["worst"]) }
            return grouped.keys.sorted().map { ($0, grouped[$0]!) }
        }
    }
}
