import ArgumentParser
import Evaluation
import Foundation
import Linalg
import Synchronization

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a robustness grid (policies × attacks × ε × norms × seeds) into a SQLite results database.",
        discussion: """
            Cells already in the database are skipped; the rest run --jobs at a time and each is \
            committed atomically when it finishes, so a sweep killed at any moment (even with \
            kill -9) continues where it stopped when run again, with results identical to an \
            uninterrupted run. --shard i/n runs a deterministic 1/n of the cells.
            """)

    @Argument(help: "Sweep spec (YAML).") var spec: String
    @Option(help: "Results database (SQLite).") var db: String
    @Option(help: "Cells evaluated in parallel (default: all cores).") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Run only shard i of n (i counts from 0), e.g. 0/4.") var shard: String?

    func validate() throws {
        guard jobs > 0 && jobs <= 1024 else { throw ValidationError("--jobs must lie in 1...1024") }
        _ = try parsedShard()
    }

    func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count > 0, (0..<count).contains(index) else {
            throw ValidationError("--shard must be i/n with 0 ≤ i < n, got '\(shard)'")
        }
        return (index, count)
    }

    func run() throws {
        BLAS.setThreads(1)
        let parsed: SweepSpec
        do { parsed = try SweepSpec(contentsOf: URL(fileURLWithPath: spec)) } catch { throw ValidationError(error.description) }
        let store: ResultsStore
        do { store = try ResultsStore(path: db) } catch { throw ValidationError("--db \(db): \(error)") }
        let last = Mutex<UInt64>(0)
        let ran = try Sweep(spec: parsed, jobs: jobs, shard: try parsedShard()).run(store: store) { p in
            let now = DispatchTime.now().uptimeNanoseconds
            let draw = last.withLock { previous -> Bool in
                guard now - previous > 500_000_000 || p.finished == p.total else { return false }
                previous = now
                return true
            }
            guard draw else { return }
            let eta = p.elapsedSeconds / Double(p.finished) * Double(p.total - p.finished)
            FileHandle.standardError.write(Data(String(format: "%d/%d cells (%d already done), %.1f s, ETA %.0f s\n",
                                                       p.finished, p.total, p.skipped, p.elapsedSeconds, eta).utf8))
        }
        print("\(parsed.name): ran \(ran) cell(s) into \(db)")
        for warning in try store.refreshWarnings() { print(warning.description) }
    }
}

struct Results: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Query and merge results databases.", subcommands: [ResultsQuery.self, ResultsMerge.self])
}

struct ResultsQuery: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query", abstract: "Print stored cells as a table, CSV or JSON.")

    @Option(help: "Results database.") var db: String
    @Option(help: "table, csv or json.") var format = "table"
    @Option(help: "Only policies whose path contains this.") var policy: String?
    @Option(help: "Only attacks whose spec contains this.") var attack: String?

    func validate() throws {
        guard ["table", "csv", "json"].contains(format) else { throw ValidationError("--format must be table, csv or json") }
        guard FileManager.default.fileExists(atPath: db) else { throw ValidationError("--db \(db): no such file") }
    }

    func run() throws {
        let rows: [ResultsStore.Row]
        do { rows = try ResultsStore(path: db).rows(policy: policy, attack: attack) } catch { throw ValidationError("--db \(db): \(error)") }
        switch format {
        case "json":
            try printJSON(["cells": rows])
        case "csv":
            print("policy,environment,attack,epsilon,norm,units,seed,episodes,clean_mean,attacked_mean,drop_mean,drop_low,drop_high,flip_rate,queries")
            for r in rows {
                print([r.policy, r.environment, "\"\(r.attack)\"", "\(r.epsilon)", r.norm, r.units, "\(r.seed)", "\(r.episodes)", "\(r.cleanMean)",
                       "\(r.attackedMean)", "\(r.dropMean)", "\(r.dropLow)", "\(r.dropHigh)", "\(r.flipRate)", "\(r.queries)"].joined(separator: ","))
            }
        default:
            print("| policy | attack | ε | seed | clean | attacked | drop [95% CI] | flips |")
            print("|---|---|---|---|---|---|---|---|")
            for r in rows {
                print(String(format: "| %@ | %@ | %g | %lld | %.1f | %.1f | %.1f [%.1f, %.1f] | %.1f%% |", r.policy, r.attack, r.epsilon, r.seed,
                             r.cleanMean, r.attackedMean, r.dropMean, r.dropLow, r.dropHigh, 100 * r.flipRate))
            }
        }
    }
}

struct ResultsMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge shard databases into one (idempotent; refuses databases of another spec).")

    @Option(help: "Database to merge into (created if missing).") var db: String
    @Argument(help: "Shard databases.") var inputs: [String]

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one database to merge") }
        for input in inputs where !FileManager.default.fileExists(atPath: input) { throw ValidationError("\(input): no such file") }
    }

    func run() throws {
        do {
            let store = try ResultsStore(path: db)
            for input in inputs { try store.merge(from: input) }
            print("merged \(inputs.count) database(s) into \(db): \(try store.rows().count) cells")
        } catch let error as SweepError {
            throw ValidationError(error.description)
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a Markdown report and one self-contained HTML page with SVG figures from a results database.")

    @Option(help: "Results database.") var db: String
    @Option(help: "Output directory.") var out: String
    @Option(name: .customLong("baseline"), help: "A vanilla policy to compare the others of its environment with at ε* (repeatable).")
    var baselines: [String] = []

    func validate() throws {
        guard FileManager.default.fileExists(atPath: db) else { throw ValidationError("--db \(db): no such file") }
    }

    func run() throws {
        do { try Report(store: try ResultsStore(path: db), baselines: baselines).write(to: URL(fileURLWithPath: out)) } catch {
            throw ValidationError("report: \(error)")
        }
        print("wrote \(out)/report.md and \(out)/report.html")
    }
}
