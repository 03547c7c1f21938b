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
