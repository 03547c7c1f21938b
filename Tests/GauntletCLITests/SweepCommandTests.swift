import Environments
import Foundation
import TestSupport
import Testing

/// `gauntlet sweep` killed with SIGKILL mid-run and run again ends with exactly the database an
/// uninterrupted sweep writes; shards partition the grid.
@Suite(.serialized) struct SweepCommandTests {
    static let spec = """
        name: kill-test
        policies: [policies/cartpole-dqn.safetensors, policies/cartpole-ppo.safetensors]
        attacks: [fgsm, "pgd:steps=3", uniform]
        epsilons: [0, 0.1, 0.2, 0.3]
        episodes: 4
        """

    func query(_ db: URL) throws -> String {
        let run = try runGauntlet(["results", "query", "--db", db.path, "--format", "csv"])
        #expect(run.status == 0, "\(run.standardError)")
        return run.standardOutput
    }

    @Test func killedSweepResumesToTheSameResults() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-sweep-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = directory.appendingPathComponent("spec.yaml")
        try Self.spec.write(to: spec, atomically: true, encoding: .utf8)
        let straight = directory.appendingPathComponent("straight.sqlite")
        let killed = directory.appendingPathComponent("killed.sqlite")

        #expect(try runGauntlet(["sweep", spec.path, "--db", straight.path, "--jobs", "2"]).status == 0)
        let expected = try query(straight)
        #expect(expected.split(separator: "\n").count == 1 + 24)

        // Kill -9 at several moments, then finish.
        for delay in [0.3, 0.8] {
            let process = Process()
            process.executableURL = Bundle.main.executableURL!.deletingLastPathComponent().appendingPathComponent("gauntlet")
            process.arguments = ["sweep", spec.path, "--db", killed.path, "--jobs", "2"]
            process.currentDirectoryURL = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let partial = FileManager.default.fileExists(atPath: killed.path) ? try query(killed).split(separator: "\n").count - 1 : 0
        #expect(partial < 24, "the sweep finished before it was killed: the test did not test a kill")
        let resumed = try runGauntlet(["sweep", spec.path, "--db", killed.path, "--jobs", "1"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(try query(killed) == expected)
        let again = try runGauntlet(["sweep", spec.path, "--db", killed.path])
        #expect(again.standardOutput.contains("ran 0 cell(s)"))
    }

    @Test func shardsPartitionTheGrid() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-shard-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = directory.appendingPathComponent("spec.yaml")
        try Self.spec.write(to: spec, atomically: true, encoding: .utf8)
        var total = 0
        for i in 0..<3 {
            let db = directory.appendingPathComponent("shard\(i).sqlite")
            #expect(try runGauntlet(["sweep", spec.path, "--db", db.path, "--shard", "\(i)/3"]).status == 0)
            total += try query(db).split(separator: "\n").count - 1
        }
        #expect(total == 24)
        // Shards merge into the database an unsharded sweep writes; merging twice changes nothing.
        let merged = directory.appendingPathComponent("merged.sqlite")
        let whole = directory.appendingPathComponent("whole.sqlite")
        let shardPaths = (0..<3).map { directory.appendingPathComponent("shard\($0).sqlite").path }
        #expect(try runGauntlet(["results", "merge", "--db", merged.path] + shardPaths).status == 0)
        #expect(try runGauntlet(["results", "merge", "--db", merged.path] + shardPaths).status == 0)
        #expect(try runGauntlet(["sweep", spec.path, "--db", whole.path]).status == 0)
        #expect(try query(merged) == query(whole))
        let otherSpec = directory.appendingPathComponent("other.yaml")
        try Self.spec.replacingOccurrences(of: "episodes: 4", with: "episodes: 2").write(
            to: otherSpec, atomically: true, encoding: .utf8)
        let other = directory.appendingPathComponent("other.sqlite")
        #expect(try runGauntlet(["sweep", otherSpec.path, "--db", other.path, "--shard", "0/8"]).status == 0)
        let refused = try runGauntlet(["results", "merge", "--db", merged.path, other.path])
        #expect(refused.status == 2 && refused.standardError.contains("another sweep spec"))
        let bad = try runGauntlet([
            "sweep", spec.path, "--db", directory.appendingPathComponent("x.sqlite").path, "--shard", "3/3",
        ])
        #expect(bad.status == 2 && bad.standardError.contains("--shard must be i/n"))
    }

    /// `gauntlet attack --json` imported into a database holds exactly the cells a sweep over the
    /// same grid writes; the single-attack form imports too, a second import replaces instead of
    /// adding, and a file that is not an attack run is refused with its name.
    @Test func importedAttackRunsEqualSweepCells() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-import-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = directory.appendingPathComponent("spec.yaml")
        try """
        policies: [policies/cartpole-ppo.safetensors]
        attacks: [fgsm, "pgd:steps=3", uniform]
        epsilons: [0.1]
        episodes: 4
        """.write(to: spec, atomically: true, encoding: .utf8)
        let swept = directory.appendingPathComponent("swept.sqlite")
        #expect(try runGauntlet(["sweep", spec.path, "--db", swept.path]).status == 0)

        let common = ["attack", "--policy", "policies/cartpole-ppo.safetensors", "--eps", "0.1", "--episodes", "4", "--json"]
        let several = try runGauntlet(common + ["--attack", "fgsm", "--attack", "pgd:steps=3"])
        let single = try runGauntlet(common + ["--attack", "uniform"])
        #expect(several.status == 0 && single.status == 0, "\(several.standardError)\(single.standardError)")
        let files = [("several.json", several.standardOutput), ("single.json", single.standardOutput)].map { name, text in
            let url = directory.appendingPathComponent(name)
            try? text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let imported = directory.appendingPathComponent("imported.sqlite")
        let first = try runGauntlet(["results", "import", "--db", imported.path] + files)
        #expect(first.status == 0 && first.standardOutput.contains("imported 3 cell(s) from 2 file(s)"), "\(first.standardError)")
        #expect(try runGauntlet(["results", "import", "--db", imported.path, files[1]]).standardOutput.contains(": 3 cells"))
        #expect(try query(imported) == query(swept))

        let bad = directory.appendingPathComponent("bad.json")
        try #"{"policy": "p", "environment": "CartPole-v1", "precision": "f32", "attacks": [{"attack": "fgsm"}]}"#.write(
            to: bad, atomically: true, encoding: .utf8)
        let refused = try runGauntlet(["results", "import", "--db", imported.path, bad.path])
        #expect(
            refused.status == 2 && refused.standardError.contains("\(bad.path): not the JSON of `gauntlet attack --json`"),
            "\(refused.standardError)")
    }
}

@Suite struct DefenseReportTests {
    /// A sweep over a vanilla and a defended policy, reported against the vanilla one as the
    /// baseline: the report holds the ε* table with both policies.
    @Test func reportComparesDefensesWithTheBaselineAtEpsilonStar() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-defense-report-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let defended = directory.appendingPathComponent("quantized.safetensors").path
        #expect(
            try runGauntlet([
                "defend", "--policy", "policies/cartpole-dqn.safetensors", "--transform", "quantize:step=0.05", "--output",
                defended,
            ]).status == 0)
        let spec = directory.appendingPathComponent("spec.yaml")
        try """
        name: defense-report
        policies: [policies/cartpole-dqn.safetensors, \(defended)]
        attacks: [fgsm, "pgd:steps=3"]
        epsilons: [0, 0.1, 0.3]
        episodes: 3
        """.write(to: spec, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("results.sqlite").path
        let sweep = try runGauntlet(["sweep", spec.path, "--db", db])
        #expect(sweep.status == 0, "\(sweep.standardError)")
        let out = directory.appendingPathComponent("report").path
        let report = try runGauntlet(["report", "--db", db, "--out", out, "--baseline", "policies/cartpole-dqn.safetensors"])
        #expect(report.status == 0, "\(report.standardError)")
        let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(markdown.contains("## Defenses at ε*"))
        // ε* from the stored cells: the strongest attack per episode does at least as much damage
        // as the best single attack, so at ε = 0 (no damage) it is above half and wherever a
        // single attack already halves the baseline's return it is below: the first such ε here.
        let expected = try #require(try halvingEpsilons(db: db, policy: "cartpole-dqn", environment: "CartPole-v1").first)
        #expect(markdown.contains("### CartPole-v1: baseline policies/cartpole-dqn.safetensors, ε* = \(expected)"), "\(markdown)")
        #expect(markdown.contains("| policies/cartpole-dqn.safetensors (baseline) | 500.0 |"))
        #expect(markdown.contains("| \(defended) | 500.0 |"))
        let missing = try runGauntlet(["report", "--db", db, "--out", out, "--baseline", "policies/nothing.safetensors"])
        #expect(missing.status == 2 && missing.standardError.contains("has no cells"))
    }

    /// With negative rewards "half the clean return" is taken above the random policy's return
    /// (≈ −500 for Acrobot): ε* is the first ε where an attack leaves less than half of
    /// `clean − R₀`.
    @Test func negativeReturnsAreMeasuredAboveTheRandomPolicy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-defense-floor-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = directory.appendingPathComponent("spec.yaml")
        try """
        name: defense-floor
        policies: [policies/acrobot-dqn.safetensors]
        attacks: ["pgd:steps=3"]
        epsilons: [0, 0.3, 0.6]
        episodes: 2
        """.write(to: spec, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("results.sqlite").path
        #expect(try runGauntlet(["sweep", spec.path, "--db", db]).status == 0)
        let out = directory.appendingPathComponent("report").path
        #expect(
            try runGauntlet(["report", "--db", db, "--out", out, "--baseline", "policies/acrobot-dqn.safetensors"]).status == 0)
        let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        let star = try #require(
            try halvingEpsilons(db: db, policy: "acrobot-dqn", environment: "Acrobot-v1").first,
            "PGD at ε = 0.6 halves the Acrobot DQN's return above random")
        #expect(markdown.contains("### Acrobot-v1: baseline policies/acrobot-dqn.safetensors, ε* = \(star)"), "\(markdown)")
    }

    /// The ε of the stored cells where a single attack leaves less than half of the clean
    /// return above the random policy's, smallest first (the strongest attack per episode does
    /// at least as much damage, so ε* is the first), formatted as the report's title writes it
    /// with the random policy's return.
    func halvingEpsilons(db: String, policy: String, environment: String) throws -> [String] {
        let json = try runGauntlet(["results", "query", "--db", db, "--format", "json", "--policy", policy]).standardOutput
        let cells = try #require(
            (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["cells"] as? [[String: Any]])
        let floor = try Registry.make(environment).randomPolicyReturn()
        return cells.filter { ($0["attacked_mean"] as! Double) - floor < (($0["clean_mean"] as! Double) - floor) / 2 }
            .map { $0["epsilon"] as! Double }.sorted()
            .map { String(format: "%g, returns measured above the random policy's %.1f", $0, floor) }
    }
}
