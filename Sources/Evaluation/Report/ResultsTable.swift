import Environments
import Foundation

/// The report's table of cells: one body per policy (its rows stay together), the strongest
/// attack of each (policy, ε, norm, units, seed) highlighted, the attack's full spec on hover.
/// A few lines of plain JavaScript sort it by any column (click a header; again to reverse),
/// filter it by policy, attack, ε and norm, and download the rows shown as CSV.
struct ResultsTable {
    var rows: [ResultsStore.Row]
    var labels: AttackLabels

    static let columns = ["policy", "attack", "ε", "norm", "units", "seed", "clean", "attacked", "drop", "drop 95% CI", "flips"]

    /// Rows that are the strongest attack (lowest attacked mean) of their (policy, ε, norm,
    /// units, seed), for ε > 0; none where every attack did equally well (no attack is stronger).
    var strongest: Set<Int> {
        var groups: [String: [Int]] = [:]
        for (index, row) in rows.enumerated() where row.epsilon > 0 {
            groups["\(row.policy)|\(row.epsilon)|\(row.norm)|\(row.units)|\(row.seed)", default: []].append(index)
        }
        var strongest: Set<Int> = []
        for members in groups.values {
            let means = members.map { rows[$0].attackedMean }
            guard let lowest = means.min(), lowest < means.max()! else { continue }
            strongest.formUnion(members.filter { rows[$0].attackedMean == lowest })
        }
        return strongest
    }

    var html: String {
        let strongest = strongest
        func cell(_ text: String, sortKey: String? = nil, title: String? = nil) -> String {
            let sort = sortKey.map { " data-sort=\"\(SVG.escaped($0))\"" } ?? ""
            let hover = title.map { " title=\"\(SVG.escaped($0))\"" } ?? ""
            return "<td\(sort)\(hover)>\(SVG.escaped(text))</td>"
        }
        // Each filter names its data attribute and the column that shows it (1-based).
        func filter(_ name: String, _ attribute: String, _ column: String) -> String {
            let index = Self.columns.firstIndex(of: column)! + 1
            return
                "<label>\(name) <select id=\"filter-\(attribute)\" data-column=\"\(attribute)\" data-cell=\"\(index)\"><option value=\"\">all</option></select></label>\n"
        }
        var html = "<div id=\"results-controls\">\n"
        html += filter("policy", "policy", "policy") + filter("attack", "attack", "attack") + filter("ε", "epsilon", "ε")
        html += filter("norm", "norm", "norm")
        html += """
            <button id="results-csv">download CSV of the rows shown</button> <span id="results-count"></span>
            </div>
            <table id="results"><thead><tr>
            """
        html += Self.columns.enumerated().map { "<th data-index=\"\($0.offset)\">\(SVG.escaped($0.element))</th>" }.joined()
        html += "</tr></thead>\n"
        for policy in Array(Set(rows.map(\.policy))).sorted() {
            html +=
                "<tbody data-policy=\"\(SVG.escaped(policy))\"><tr class=\"group\"><th colspan=\"\(Self.columns.count)\">\(SVG.escaped(policy))</th></tr>\n"
            for (index, row) in rows.enumerated() where row.policy == policy {
                let values: [String: String] = [
                    "policy": row.policy, "attack": row.attack, "epsilon": String(format: "%g", row.epsilon), "norm": row.norm,
                ]
                html += "<tr class=\"cell\(strongest.contains(index) ? " strongest" : "")\""
                html += values.sorted { $0.key < $1.key }.map { " data-\($0.key)=\"\(SVG.escaped($0.value))\"" }.joined() + ">"
                html += cell(ReportData.shortName(row.policy), title: row.policy)
                html += cell(labels.label(row.attack), title: row.attack)
                html += cell(String(format: "%g", row.epsilon), sortKey: "\(row.epsilon)")
                html += cell(row.norm) + cell(row.units) + cell("\(row.seed)", sortKey: "\(row.seed)")
                html += cell(String(format: "%.1f", row.cleanMean), sortKey: "\(row.cleanMean)")
                html += cell(String(format: "%.1f", row.attackedMean), sortKey: "\(row.attackedMean)")
                html += cell(String(format: "%.1f", row.dropMean), sortKey: "\(row.dropMean)")
                html += cell(String(format: "[%.1f, %.1f]", row.dropLow, row.dropHigh), sortKey: "\(row.dropLow)")
                html += cell(String(format: "%.1f%%", 100 * row.flipRate), sortKey: "\(row.flipRate)")
                html += "</tr>\n"
            }
            html += "</tbody>\n"
        }
        return html + "</table>\n" + Self.script
    }

    /// Sorting, filtering and CSV; `window.resultsTable` lets the page's self-test drive it.
    static let script = """
        <script>
        (function () {
          var table = document.getElementById("results");
          var headers = table.querySelectorAll("thead th");
          var sorted = { index: -1, ascending: true };
          function rows() { return Array.prototype.slice.call(table.querySelectorAll("tr.cell")); }
          function key(row, index) {
            var td = row.children[index];
            var value = td.getAttribute("data-sort");
            return value === null ? td.textContent : Number(value);
          }
          function sort(index) {
            sorted.ascending = sorted.index === index ? !sorted.ascending : true;
            sorted.index = index;
            table.querySelectorAll("tbody").forEach(function (body) {
              var list = Array.prototype.slice.call(body.querySelectorAll("tr.cell"));
              list.sort(function (a, b) {
                var x = key(a, index), y = key(b, index);
                var order = x < y ? -1 : x > y ? 1 : 0;
                return sorted.ascending ? order : -order;
              });
              list.forEach(function (row) { body.appendChild(row); });
            });
            headers.forEach(function (th, i) {
              th.textContent = th.textContent.replace(/ [▲▼]$/, "") + (i === index ? (sorted.ascending ? " ▲" : " ▼") : "");
            });
          }
          var filters = Array.prototype.slice.call(document.querySelectorAll("#results-controls select"));
          filters.forEach(function (select) {
            var column = select.getAttribute("data-column");
            var values = {};
            rows().forEach(function (row) {
              // Shown as in the table (an attack by its short label), matched by the full value.
              var shown = row.querySelector("td:nth-child(" + select.getAttribute("data-cell") + ")");
              values[row.getAttribute("data-" + column)] = shown.textContent;
            });
            Object.keys(values).sort(function (a, b) {
              return column === "epsilon" ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0;
            }).forEach(function (value) {
              var option = document.createElement("option");
              option.value = value;
              option.textContent = values[value];
              option.title = value;
              select.appendChild(option);
            });
            select.addEventListener("change", filter);
          });
          function filter() {
            var shown = 0;
            rows().forEach(function (row) {
              var visible = filters.every(function (select) {
                return select.value === "" || row.getAttribute("data-" + select.getAttribute("data-column")) === select.value;
              });
              row.style.display = visible ? "" : "none";
              if (visible) shown += 1;
            });
            table.querySelectorAll("tbody").forEach(function (body) {
              var any = body.querySelector("tr.cell:not([style*='none'])") !== null;
              body.querySelector("tr.group").style.display = any ? "" : "none";
            });
            document.getElementById("results-count").textContent = shown + " of " + rows().length + " rows";
            return shown;
          }
          function visibleRows() { return rows().filter(function (row) { return row.style.display !== "none"; }); }
          function csv() {
            function quote(text) { return /[",\\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text; }
            var lines = [Array.prototype.map.call(headers, function (th) { return quote(th.textContent.replace(/ [▲▼]$/, "")); }).join(",")];
            visibleRows().forEach(function (row) {
              lines.push(Array.prototype.map.call(row.children, function (td) { return quote(td.getAttribute("title") || td.textContent); }).join(","));
            });
            return lines.join("\\n") + "\\n";
          }
          headers.forEach(function (th, i) { th.style.cursor = "pointer"; th.addEventListener("click", function () { sort(i); }); });
          document.getElementById("results-csv").addEventListener("click", function () {
            var link = document.createElement("a");
            link.href = URL.createObjectURL(new Blob([csv()], { type: "text/csv" }));
            link.download = "results.csv";
            link.click();
          });
          filter();
          window.resultsTable = { sort: sort, filter: filter, rows: rows, visibleRows: visibleRows, csv: csv, key: key };
        })();
        </script>

        """
}
