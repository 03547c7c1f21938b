import Foundation
import TestSupport
import Testing

/// Path of a headless-capable Chromium, if installed (`.ci/run` installs Debian's `chromium`).
let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// The report page, opened in headless Chromium with `#selftest` (the page's own checks, see
/// `ReportSelfTest`): in every figure no text leaves the view box or overlaps another, legend
/// labels are distinct, every axis has at least four tick labels; the player steps; the table
/// sorts, filters and exports; no script or console error. Run on a fresh sweep with labels that
/// need parameters (`pgd (cw)`, transfers) and on the committed example study's page.
@Suite struct ReportPageTests {
    static func selfTest(_ page: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
            "file://\(page.path)#selftest",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return dom.components(separatedBy: "id=\"selftest\">").dropFirst().first.map { String($0.prefix { $0 != "<" }) }
            ?? "no self-test output"
    }

    /// Sweeps `spec` (a YAML text) with the CLI, writes its report and returns the page's
    /// self-test verdict and its HTML.
    static func checkedReport(of spec: String) throws -> (verdict: String, html: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-page-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("spec.yaml")
        try spec.write(to: file, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("r.sqlite").path
        let sweep = try runGauntlet(["sweep", file.path, "--db", db])
        #expect(sweep.status == 0, "\(sweep.standardError)")
        let report = directory.appendingPathComponent("report")
        let written = try runGauntlet(["report", "--db", db, "--out", report.path])
        #expect(written.status == 0, "\(written.standardError)")
        let page = report.appendingPathComponent("report.html")
        return (try selfTest(page), try String(contentsOf: page, encoding: .utf8))
    }

    @Test(
        .enabled(
            if: chromium != nil, "Chromium is not installed here: .ci/run installs Debian's chromium; skipping the page test"))
    func reportPageWorksInChromium() throws {
        let (verdict, html) = try Self.checkedReport(
            of: """
                policies: [policies/cartpole-dqn.safetensors, policies/cartpole-ppo.safetensors]
                attacks: [fgsm, uniform, {name: pgd, loss: [cw], steps: [3]}, {name: transfer, surrogate: [policies/cartpole-dqn.safetensors], steps: [3]}]
                epsilons: [0, 0.1, 0.2]
                episodes: 2
                """)
        for label in ["pgd (cw, steps=3)", "transfer ← cartpole-dqn (steps=3)", "legend-label", "tick-x", "tick-scale"] {
            #expect(html.contains(label), "the page lacks \(label)")
        }
        #expect(verdict == "SELFTEST OK", "\(verdict)")
    }

    /// A gridworld sweep's page: the same checks (its frames are grids, its actions names).
    @Test(
        .enabled(
            if: chromium != nil, "Chromium is not installed here: .ci/run installs Debian's chromium; skipping the page test"))
    func gridworldReportPassesItsChecks() throws {
        let (verdict, _) = try Self.checkedReport(
            of: """
                policies: [policies/lava-corridor-dqn.safetensors]
                attacks: [fgsm, uniform]
                epsilons: [0, 0.1, 0.2]
                episodes: 2
                """)
        #expect(verdict == "SELFTEST OK", "\(verdict)")
    }

    /// The checks catch what they look for: the committed page with a legend label repeated and
    /// a label pushed out of its figure fails with both named.
    @Test(
        .enabled(
            if: chromium != nil, "Chromium is not installed here: .ci/run installs Debian's chromium; skipping the page test"))
    func selfTestCatchesRepeatedAndClippedLabels() throws {
        let page = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("studies/cartpole-robustness/report.html")
        var html = try String(contentsOf: page, encoding: .utf8)
        let mad = try #require(html.range(of: #"class="legend-label">mad</text>"#))
        html.replaceSubrange(mad, with: #"class="legend-label">fgsm</text>"#)
        let title = try #require(html.range(of: #"<text x="8.00" y="20.00""#))
        html.replaceSubrange(title, with: #"<text x="-40.00" y="20.00""#)
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-broken-page-\(UUID()).html")
        try html.write(to: broken, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: broken) }
        let verdict = try Self.selfTest(broken)
        #expect(verdict.hasPrefix("SELFTEST FAILED") && verdict.contains("legend labels repeat: fgsm | fgsm"), "\(verdict)")
        #expect(verdict.contains("leaves the figure"), "\(verdict)")
    }

    @Test(
        .enabled(
            if: chromium != nil, "Chromium is not installed here: .ci/run installs Debian's chromium; skipping the page test"))
    func committedStudyPagePassesItsChecks() throws {
        let page = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("studies/cartpole-robustness/report.html")
        let verdict = try Self.selfTest(page)
        #expect(verdict == "SELFTEST OK", "\(verdict)")
    }
}

/// A report depends only on its database: written twice, every file is byte-identical; and
/// warnings name their policy.
@Suite struct ReportReproducibilityTests {
    @Test func reportIsByteIdenticalAcrossRuns() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-report-twice-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = directory.appendingPathComponent("spec.yaml")
        try """
        policies: [policies/cartpole-dqn.safetensors, policies/cartpole-ppo.safetensors]
        attacks: [fgsm, uniform, "pgd:steps=3"]
        epsilons: [0, 0.1, 0.2]
        episodes: 2
        """.write(to: spec, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("r.sqlite").path
        let sweep = try runGauntlet(["sweep", spec.path, "--db", db])
        #expect(sweep.status == 0, "\(sweep.standardError)")
        for line in sweep.standardOutput.split(separator: "\n") where line.hasPrefix("warning") {
            #expect(line.contains("policies/cartpole-"), "a warning that does not name its policy: \(line)")
        }
        var pages: [[String: Data]] = []
        for name in ["first", "second"] {
            let folder = directory.appendingPathComponent(name)
            let written = try runGauntlet(["report", "--db", db, "--out", folder.path])
            #expect(
                written.status == 0 && written.standardOutput.contains("\(folder.path)/report.md"), "\(written.standardOutput)")
            var files: [String: Data] = [:]
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
                files[file] = try Data(contentsOf: folder.appendingPathComponent(file))
            }
            pages.append(files)
        }
        #expect(pages[0].keys.contains("report.html") && pages[0] == pages[1])
    }
}
