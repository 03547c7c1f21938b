import ArgumentParser
import Evaluation
import Foundation
import Linalg
import Synchronization

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a Markdown report and one self-contained HTML page with SVG figures from a results database.")

    @Option(help: "Results database.") var db: String
    @Option(help: "Output directory.") var out: String
    @Option(
        name: .customLong("baseline"), help: "A vanilla policy to compare the others of its environment with at ε* (repeatable).")
    var baselines: [String] = []

    func validate() throws {
        guard FileManager.default.fileExists(atPath: db) else { throw ValidationError("--db \(db): no such file") }
    }

    func run() throws {
        do { try Report(store: try ResultsStore(path: db), baselines: baselines).write(to: URL(fileURLWithPath: out)) } catch {
            throw ValidationError("report: \(error)")
        }
        let folder = URL(fileURLWithPath: out)
        print(
            "wrote \(folder.appendingPathComponent("report.md").path) and \(folder.appendingPathComponent("report.html").path)")
    }
}
