/// Opened with `#selftest`, the report page checks itself and writes the verdict into
/// `<pre id="selftest">`, which the headless-Chromium test reads. In every figure: a size, no
/// text outside the view box or over another text (their rendered boxes), distinct legend
/// labels, at least four tick labels on each axis and colour scale. The episode player's step
/// control advances a frame. The table sorts by a column (ascending, then descending, within each
/// policy's group), filters by policy and by ε to exactly the matching rows, and exports what is
/// shown as CSV. No script error or console error occurred.
enum ReportSelfTest {
    static let script = """
        <pre id="selftest"></pre>
        <script>
        window.addEventListener("load", function () {
          if (location.hash !== "#selftest") return;
          var problems = [];
          var figures = document.querySelectorAll("figure svg");
          if (figures.length === 0) problems.push("no figures");
          figures.forEach(function (svg, i) {
            var name = svg.closest("figure").getAttribute("data-file") || ("figure " + i);
            var box = svg.getBoundingClientRect();
            if (!(box.width > 0 && box.height > 0)) problems.push(name + " has no size");
            var texts = Array.prototype.slice.call(svg.querySelectorAll("text"));
            var boxes = texts.map(function (t) { return t.getBoundingClientRect(); });
            boxes.forEach(function (b, k) {
              if (b.left < box.left - 0.5 || b.right > box.right + 0.5 || b.top < box.top - 0.5 || b.bottom > box.bottom + 0.5) {
                problems.push(name + ": '" + texts[k].textContent + "' leaves the figure");
              }
            });
            for (var a = 0; a < boxes.length; a++) {
              for (var b = a + 1; b < boxes.length; b++) {
                var w = Math.min(boxes[a].right, boxes[b].right) - Math.max(boxes[a].left, boxes[b].left);
                var h = Math.min(boxes[a].bottom, boxes[b].bottom) - Math.max(boxes[a].top, boxes[b].top);
                if (w > 0.5 && h > 0.5) problems.push(name + ": '" + texts[a].textContent + "' overlaps '" + texts[b].textContent + "'");
              }
            }
            var legend = Array.prototype.map.call(svg.querySelectorAll("text.legend-label"), function (t) { return t.textContent; });
            if (new Set(legend).size !== legend.length) problems.push(name + ": legend labels repeat: " + legend.join(" | "));
            ["tick-x", "tick-y", "tick-scale"].forEach(function (axis) {
              var count = svg.querySelectorAll("text." + axis).length;
              var expected = axis === "tick-scale" ? svg.querySelector("text.cell-value") !== null : svg.querySelector("text.tick-x") !== null;
              if (expected && count < 4) problems.push(name + ": " + count + " " + axis + " labels");
            });
          });
          var frame = document.getElementById("player-frame");
          if (!frame) { problems.push("no episode player"); } else {
            var before = Number(frame.textContent);
            document.getElementById("player-step").click();
            if (Number(frame.textContent) !== before + 1) problems.push("step did not advance the frame");
          }
          var table = window.resultsTable;
          if (!table) { problems.push("no results table"); } else {
            var headers = Array.prototype.map.call(document.querySelectorAll("#results thead th"), function (th) { return th.textContent; });
            var attacked = headers.indexOf("attacked");
            [true, false].forEach(function (ascending) {
              table.sort(attacked);
              document.querySelectorAll("#results tbody").forEach(function (body) {
                var keys = Array.prototype.map.call(body.querySelectorAll("tr.cell"), function (row) { return table.key(row, attacked); });
                for (var k = 1; k < keys.length; k++) {
                  if (ascending ? keys[k - 1] > keys[k] : keys[k - 1] < keys[k]) {
                    problems.push("sorting by attacked (" + (ascending ? "ascending" : "descending") + ") left " + keys[k - 1] + " before " + keys[k]);
                  }
                }
              });
            });
            ["policy", "epsilon"].forEach(function (column) {
              var select = document.getElementById("filter-" + column);
              var value = select.options[select.options.length - 1].value;
              select.value = value;
              var shown = table.filter();
              var expected = table.rows().filter(function (row) { return row.getAttribute("data-" + column) === value; }).length;
              var wrong = table.visibleRows().filter(function (row) { return row.getAttribute("data-" + column) !== value; }).length;
              if (shown !== expected || wrong !== 0 || expected === 0) {
                problems.push("filtering " + column + " = " + value + " shows " + shown + " rows (" + wrong + " wrong), expected " + expected);
              }
              var lines = table.csv().trim().split("\\n").length;
              if (lines !== shown + 1) problems.push("the CSV of " + shown + " rows has " + lines + " lines");
              select.value = "";
              if (table.filter() !== table.rows().length) problems.push("clearing the " + column + " filter does not show every row");
            });
          }
          window.reportErrors.forEach(function (e) { problems.push("script error: " + e); });
          document.getElementById("selftest").textContent = problems.length === 0 ? "SELFTEST OK" : "SELFTEST FAILED: " + problems.join("; ");
        });
        </script>

        """

    /// Collects script errors and console errors from the page's start (goes in its head).
    static let errorCollector = """
        <script>window.reportErrors = []; window.addEventListener('error', function (e) { window.reportErrors.push(String(e.message)); }); (function () { var original = console.error; console.error = function () { window.reportErrors.push(Array.prototype.join.call(arguments, ' ')); original.apply(console, arguments); }; })();</script>
        """
}
