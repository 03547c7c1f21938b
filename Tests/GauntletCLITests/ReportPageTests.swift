import Foundation
import TestSupport
import Testing

/// Path of a headless-capable Chromium, if installed (`.ci/run` installs Debian's `chromium`).
let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// The report page, opened in headless Chromium: every figure has a size, the episode player's
/// step control advances a frame, and no script error occurs (the page's `#selftest` hook).
@Suite struct ReportPageTests {
    @Test(
        .enabled(
            if: chromium != nil, "Chromium is not installed here: .ci/run installs Debian's chromium; skipping the page test"))
    func reportPageWorksInChromium() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-page-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = directory.appendingPathComponent("spec.yaml")
        try """
        policies: [policies/cartpole-dqn.safetensors]
        attacks: [fgsm, uniform]
        epsilons: [0, 0.2]
        episodes: 2
        """.write(to: spec, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("r.sqlite").path
        #expect(try runGauntlet(["sweep", spec.path, "--db", db]).status == 0)
        let report = directory.appendingPathComponent("report")
        let written = try runGauntlet(["report", "--db", db, "--out", report.path])
        #expect(written.status == 0, "\(written.standardError)")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
            "file://\(report.appendingPathComponent("report.html").path)#selftest",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(
            dom.contains("SELFTEST OK"),
            "\(dom.components(separatedBy: "id=\"selftest\">").dropFirst().first?.prefix(300) ?? "no self-test output")")
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
