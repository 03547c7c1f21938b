import Environments
import Foundation
import GRDB

/// A report of a results database: `report.md` and one self-contained HTML page (no network
/// fetches, no script library), plus every figure as its own SVG file sized for a paper column.
/// The page opens with a summary per policy (clean return, the strongest attack and its return at
/// each ε, the ε that halves the return with its interval), then the figures — return vs ε per
/// policy and threat model (one line per attack with its 95% band, the strongest attack per
/// episode, the clean return as a reference; short labels with the full specs in a key under each
/// figure), the mean reward drop per policy × attack at the largest ε, the transfer matrix —,
/// the episode player, the sanity warnings grouped by policy, and a table of every cell that
/// sorts, filters and downloads as CSV. The same database gives byte-identical files.
public struct Report {
    public var store: ResultsStore
    /// Vanilla policies the others are compared with at ε* (`DefenseTable`), if any.
    public var baselines: [String]
    /// Where attack names and parameter defaults come from (for short labels).
    public var toolkit: Toolkit

    public init(store: ResultsStore, baselines: [String] = [], toolkit: Toolkit = .standard) {
        self.store = store
        self.baselines = baselines
        self.toolkit = toolkit
    }

    struct Figure {
        var file: String
        var heading: String
        var caption: String
        var svg: String
        /// Short label → full spec, shown under the figure.
        var key: [(label: String, spec: String)] = []
    }

    /// The figures, in page order.
    func figures(_ data: ReportData, labels: AttackLabels) -> [Figure] {
        var figures: [Figure] = []
        for (index, curve) in data.curves.enumerated() {
            let series =
                curve.attacks.map { attack in
                    LineChart.Series(
                        label: labels.label(attack.spec), detail: attack.spec, colour: labels.colour(attack.spec).colour,
                        dash: labels.colour(attack.spec).dash, points: attack.points)
                }
                + [
                    LineChart.Series(
                        label: AttackLabels.strongest.label,
                        detail: "the lowest attacked return of each episode over every attack",
                        colour: AttackLabels.strongest.colour,
                        dash: AttackLabels.strongest.dash, points: curve.strongest)
                ]
            let chart = LineChart(
                title: "\(curve.shortPolicy) · \(curve.environment)", xTitle: curve.epsilonTitle,
                yTitle: "mean return (\(curve.episodes) episodes)",
                reference: (curve.clean, String(format: "clean %.1f", curve.clean)), series: series)
            figures.append(
                Figure(
                    file: "return-vs-epsilon-\(index + 1).svg",
                    heading: "Return vs ε: \(curve.shortPolicy), \(Self.threatModel(curve))",
                    caption:
                        "Return vs ε: \(curve.policy) on \(curve.environment), \(Self.threatModel(curve)); lines are means over \(curve.episodes) episodes, shaded bands their 95% bootstrap intervals, dashed grey the clean return.",
                    svg: chart.svg, key: curve.attacks.map { (labels.label($0.spec), $0.spec) }))
        }
        let threatModels = Array(Set(data.rows.map { "\($0.norm)|\($0.units)" })).sorted()
        for threatModel in threatModels {
            let mine = data.rows.filter { "\($0.norm)|\($0.units)" == threatModel }
            guard let largest = mine.map(\.epsilon).max(), largest > 0 else { continue }
            let atLargest = mine.filter { $0.epsilon == largest }
            let policies = Array(Set(atLargest.map(\.policy))).sorted()
            let columnOf = AttackLabels.columns(of: atLargest.map { ($0.policy, $0.attack) }, registry: toolkit.attacks)
            let attacks = Array(Set(columnOf.values)).sorted()
            let columnLabels = AttackLabels(specs: attacks, registry: toolkit.attacks)
            let (norm, units) = (atLargest[0].norm, atLargest[0].units)
            let map = HeatMap(
                title:
                    "Mean reward drop at ε = \(String(format: "%g", largest)) (\(ReportData.Curve.unitsName(units)), \(ReportData.Curve.normName(norm)))",
                rowTitle: "policy", columnTitle: "attack", scaleTitle: "mean reward drop",
                rows: policies.map { (ReportData.shortName($0), $0) }, columns: attacks.map { (columnLabels.label($0), $0) },
                darkerIsLarger: true
            ) { r, c in
                let cells = atLargest.filter { $0.policy == policies[r] && columnOf[$0.attack] == attacks[c] }
                return cells.isEmpty ? nil : cells.map(\.dropMean).reduce(0, +) / Double(cells.count)
            }
            figures.append(
                Figure(
                    file: threatModels.count == 1 ? "reward-drop.svg" : "reward-drop-\(norm)-\(units).svg",
                    heading:
                        "Reward drop at ε = \(String(format: "%g", largest)), \(ReportData.Curve.normName(norm)) in \(ReportData.Curve.unitsName(units))",
                    caption:
                        "Mean reward drop (clean − attacked return, averaged over seeds) of each policy under each attack at the largest ε of the sweep, ε = \(String(format: "%g", largest)) (\(ReportData.Curve.unitsName(units)), \(ReportData.Curve.normName(norm))); darker is a larger drop."
                        + (attacks.contains { columnOf[$0] == nil }
                            ? " `\(AttackLabels.ownAdversary)` is the adversary (or director) trained against that row's policy."
                            : ""),
                    svg: map.svg, key: attacks.map { (columnLabels.label($0), $0) }))
        }
        if let matrix = Self.transferMatrix(data.rows) {
            figures.append(matrix)
        }
        return figures
    }

    /// "L∞ attacks in raw units".
    static func threatModel(_ curve: ReportData.Curve) -> String {
        "\(ReportData.Curve.normName(curve.norm)) attacks, ε in \(ReportData.Curve.unitsName(curve.units))"
    }

    /// A heat map of transfer attacks in the database (cells `transfer:…surrogate=A…` on policy
    /// B) at the largest ε they were run: rows the surrogate, columns the victim.
    static func transferMatrix(_ rows: [ResultsStore.Row]) -> Figure? {
        func surrogate(_ attack: String) -> String? {
            guard attack.hasPrefix("transfer:") else { return nil }
            return attack.split(separator: ",").first { $0.contains("surrogate=") }.map { String($0.split(separator: "=").last!) }
        }
        let transfers = rows.filter { surrogate($0.attack) != nil && $0.epsilon > 0 }
        guard let epsilon = transfers.map(\.epsilon).max() else { return nil }
        let atEpsilon = transfers.filter { $0.epsilon == epsilon }
        let sources = Array(Set(atEpsilon.compactMap { surrogate($0.attack) })).sorted()
        let victims = Array(Set(atEpsilon.map(\.policy))).sorted()
        let map = HeatMap(
            title: "Transfer: attacked return at ε = \(String(format: "%g", epsilon))", rowTitle: "transfer from (surrogate)",
            columnTitle: "victim", scaleTitle: "attacked return",
            rows: sources.map { ("← " + ReportData.shortName($0), $0) }, columns: victims.map { (ReportData.shortName($0), $0) },
            darkerIsLarger: false
        ) { r, c in
            let cells = atEpsilon.filter { surrogate($0.attack) == sources[r] && $0.policy == victims[c] }
            return cells.isEmpty ? nil : cells.map(\.attackedMean).reduce(0, +) / Double(cells.count)
        }
        return Figure(
            file: "transfer-matrix.svg", heading: "Transfer matrix at ε = \(String(format: "%g", epsilon))",
            caption:
                "Transfer matrix at ε = \(String(format: "%g", epsilon)): the mean attacked return of the column's policy (victim) under PGD crafted on the row's policy (surrogate); darker is a lower return.",
            svg: map.svg)
    }

    /// The summary: per curve the clean return and the ε that halves it; per ε the strongest
    /// attack (lowest mean attacked return) and its return, and the per-episode strongest.
    static func summary(_ data: ReportData, labels: AttackLabels) -> (html: String, markdown: String) {
        func interval(_ p: LineChart.Point) -> String { String(format: "%.1f [%.1f, %.1f]", p.mean, p.low, p.high) }
        func epsilon(_ value: Double?, beyond: Double) -> String {
            value.map { String(format: "%.3g", $0) } ?? String(format: "> %g", beyond)
        }
        var overview: [[String]] = []
        var details: [(title: String, rows: [[String]])] = []
        for curve in data.curves {
            let largest = curve.strongest.map(\.x).max() ?? 0
            let halving = curve.halvingEpsilon.map { h in
                "\(epsilon(h.estimate, beyond: largest)) [\(epsilon(h.low, beyond: largest)), \(epsilon(h.high, beyond: largest))]"
            }
            overview.append([
                curve.policy, curve.environment, threatModel(curve), String(format: "%.1f", curve.clean),
                halving ?? "— (no random-policy return for \(curve.environment))",
            ])
            var rows: [[String]] = []
            for point in curve.strongest where point.x > 0 {
                let attacks = curve.attacks.compactMap { attack in
                    attack.points.first { $0.x == point.x }.map { (attack.spec, $0) }
                }
                guard let best = attacks.min(by: { $0.1.mean < $1.1.mean }) else { continue }
                rows.append([String(format: "%g", point.x), labels.label(best.0), interval(best.1), interval(point)])
            }
            details.append(("\(curve.shortPolicy) (\(threatModel(curve)))", rows))
        }
        let overviewHeader = ["policy", "environment", "threat model", "clean return", "ε that halves the return [95% CI]"]
        let detailHeader = ["ε", "strongest attack", "its mean return [95% CI]", "strongest per episode [95% CI]"]
        let note =
            "Half the return is measured above the uniformly random policy's return R₀ (as for ε* below): the ε where R₀ + (clean − R₀)/2 is reached by the per-episode strongest attack's mean, and by the lower and upper ends of its 95% band (the interval), linear between the sweep's ε; “> ε” where it is not reached."
        var html =
            "<h2>Summary</h2>\n" + Self.htmlTable(overviewHeader, overview) + "<p class=\"note\">\(SVG.escaped(note))</p>\n"
        var markdown = "## Summary\n\n" + Self.markdownTable(overviewHeader, overview) + "\n\(note)\n\n"
        for detail in details where !detail.rows.isEmpty {
            html += "<h3>\(SVG.escaped(detail.title))</h3>\n" + Self.htmlTable(detailHeader, detail.rows)
            markdown += "### \(detail.title)\n\n" + Self.markdownTable(detailHeader, detail.rows) + "\n"
        }
        return (html, markdown)
    }

    static func htmlTable(_ header: [String], _ rows: [[String]], className: String = "plain") -> String {
        "<table class=\"\(className)\"><tr>" + header.map { "<th>\(SVG.escaped($0))</th>" }.joined() + "</tr>\n"
            + rows.map { "<tr>" + $0.map { "<td>\(SVG.escaped($0))</td>" }.joined() + "</tr>\n" }.joined() + "</table>\n"
    }

    static func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
        func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        return "| " + header.joined(separator: " | ") + " |\n|" + header.map { _ in "---|" }.joined() + "\n"
            + rows.map { "| " + $0.map(escape).joined(separator: " | ") + " |\n" }.joined()
    }

    /// Warnings per policy (the policy of the cell each was raised for), in a fixed order.
    func warningsByPolicy() throws -> [(policy: String, warnings: [String])] {
        let rows = try store.database.read { db in
            try GRDB.Row.fetchAll(
                db,
                sql: """
                    SELECT c.policy AS policy, w."check" || ': ' || w.message AS text FROM warnings w
                    JOIN cells c ON c.key = w.cell_key ORDER BY c.policy, w.cell_key, w."check", w.message
                    """)
        }
        var grouped: [(String, [String])] = []
        for row in rows {
            let policy: String = row["policy"]
            if grouped.last?.0 != policy { grouped.append((policy, [])) }
            grouped[grouped.count - 1].1.append(row["text"])
        }
        return grouped
    }

    static let style = """
        <style>
        body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
        figure{margin:1.5em 0}figure svg{width:auto;max-width:100%;height:auto;zoom:1.25}figcaption{font-size:13px;margin:4px 0;max-width:760px}
        table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:left}
        table.key td:first-child{white-space:nowrap}table.key td{font-family:monospace}
        #results tr.group th{background:#f0f0f0;text-align:left}#results tr.strongest td{background:#fde9c8;font-weight:bold}
        #results-controls{margin:0.5em 0;font-size:13px}#results-controls label{margin-right:1em}
        .note{font-size:12px;color:#555;max-width:900px}
        </style>
        """

    /// Writes `report.md`, `report.html` and the figures into `directory`.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = try ReportData(store: store)
        let labels = AttackLabels(specs: data.rows.map(\.attack), registry: toolkit.attacks)
        var figures = figures(data, labels: labels)
        let player = try EpisodePlayer.section(store: store, toolkit: toolkit)
        let flip = player?.flippedStep.map { step in
            Figure(
                file: "most-damaging-step.svg", heading: "The most damaging attack's first flipped action", caption: step.caption,
                svg: FlipFigure(step: step, title: "First flipped action of the most damaging attack").svg)
        }
        for figure in figures + [flip].compactMap({ $0 }) {
            try figure.svg.write(to: directory.appendingPathComponent(figure.file), atomically: true, encoding: .utf8)
        }
        let summary = Self.summary(data, labels: labels)
        let defenseTables = try DefenseTable.compute(store: store, baselines: baselines)
        let warnings = try warningsByPolicy()
        let table = ResultsTable(rows: data.rows, labels: labels)

        var markdown = "# Robustness report\n\n" + summary.markdown
        if !defenseTables.isEmpty { markdown += "## Defenses at ε*\n\n" + defenseTables.map(\.markdown).joined() }
        if let flip { figures.append(flip) }
        for figure in figures {
            markdown += "## \(figure.heading)\n\n![\(figure.heading)](\(figure.file))\n\n\(figure.caption)\n\n"
            if !figure.key.isEmpty {
                markdown += Self.markdownTable(["label", "attack spec"], figure.key.map { [$0.label, "`\($0.spec)`"] }) + "\n"
            }
        }
        markdown += "## Sanity checks\n\n"
        markdown +=
            warnings.isEmpty
            ? "No warnings.\n\n"
            : warnings.map { group in
                "### \(group.policy)\n\n" + group.warnings.map { "- warning \($0)\n" }.joined() + "\n"
            }.joined()
        markdown += "## Cells\n\n"
        markdown += Self.markdownTable(
            ["policy", "attack", "attack spec", "ε", "norm", "units", "seed", "clean", "attacked", "drop [95% CI]", "flips"],
            data.rows.map { r in
                [
                    r.policy, labels.label(r.attack), "`\(r.attack)`", String(format: "%g", r.epsilon), r.norm, r.units,
                    "\(r.seed)",
                    String(format: "%.1f", r.cleanMean), String(format: "%.1f", r.attackedMean),
                    String(format: "%.1f [%.1f, %.1f]", r.dropMean, r.dropLow, r.dropHigh),
                    String(format: "%.1f%%", 100 * r.flipRate),
                ]
            })
        try markdown.write(to: directory.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)

        var html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Robustness report</title>\n"
        html += ReportSelfTest.errorCollector + Self.style + "</head><body>\n<h1>Robustness report</h1>\n"
        html += summary.html
        if !defenseTables.isEmpty {
            html += "<h2>Defenses at ε*</h2>\n"
            for defenseTable in defenseTables {
                html += "<h3>\(SVG.escaped(defenseTable.title))</h3>\n" + Self.htmlTable(DefenseTable.header, defenseTable.cells)
            }
        }
        html += "<h2>Figures</h2>\n"
        for figure in figures where figure.file != flip?.file {
            html += Self.figureHTML(figure)
        }
        if let player {
            html += player.html
            if let flip { html += Self.figureHTML(flip) }
        }
        html += "<h2>Sanity checks</h2>\n"
        html +=
            warnings.isEmpty
            ? "<p>No warnings.</p>\n"
            : warnings.map { group in
                "<h3>\(SVG.escaped(group.policy))</h3>\n<ul>"
                    + group.warnings.map { "<li>warning \(SVG.escaped($0))</li>" }.joined() + "</ul>\n"
            }.joined()
        html += "<h2>Cells</h2>\n" + table.html + ReportSelfTest.script + "</body></html>\n"
        try html.write(to: directory.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
    }

    static func figureHTML(_ figure: Figure) -> String {
        "<figure data-file=\"\(figure.file)\">\n" + figure.svg + "<figcaption>\(SVG.escaped(figure.caption))</figcaption>\n"
            + (figure.key.isEmpty
                ? "" : Self.htmlTable(["label", "attack spec"], figure.key.map { [$0.label, $0.spec] }, className: "key"))
            + "</figure>\n"
    }
}

extension ResultsStore {
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
