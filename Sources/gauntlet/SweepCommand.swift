import ArgumentParser
import Evaluation
import Foundation
import Linalg

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
    @Option(help: "Cells evaluated in parallel: one per core unless told.") var jobs = ProcessInfo.processInfo
        .activeProcessorCount
    @Option(help: "Run only shard i of n (i counts from 0), e.g. 0/4.") var shard: String?
    @Option(help: "Numeric precision, f32 or f64 (default: the spec's 'precision', else f32).") var precision: Precision?

    func validate() throws {
        guard jobs > 0 && jobs <= 1024 else { throw ValidationError("--jobs must lie in 1...1024") }
        _ = try parsedShard()
    }

    func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count > 0, (0..<count).contains(index)
        else {
            throw ValidationError("--shard must be i/n with 0 ≤ i < n, got '\(shard)'")
        }
        return (index, count)
    }

    func run() throws {
        BLAS.setThreads(1)
        var parsed: SweepSpec
        do { parsed = try SweepSpec(contentsOf: URL(fileURLWithPath: spec)) } catch { throw ValidationError(error.description) }
        if let precision { parsed.precision = precision }
        let store: ResultsStore
        do { store = try ResultsStore(path: db) } catch { throw ValidationError("--db \(db): \(error)") }
        let bar = ProgressBar(label: parsed.name)
        let ran = try Sweep(spec: parsed, jobs: jobs, shard: try parsedShard()).run(store: store) { p in
            bar.update(fraction: Double(p.finished) / Double(max(p.total, 1))) {
                let eta =
                    p.finished > p.skipped
                    ? p.elapsedSeconds / Double(p.finished - p.skipped) * Double(p.total - p.finished) : .nan
                return String(
                    format: "%d/%d cells (%d already done), %.1f s, ETA %@", p.finished, p.total, p.skipped, p.elapsedSeconds,
                    eta.isFinite ? String(format: "%.0f s", eta) : "—")
            }
        }
        bar.finish()
        print("\(parsed.name): ran \(ran) cell(s) into \(db)")
        if let shard = try parsedShard() {
            // Cross-cell checks need every cell of a policy; they run when the shards are merged.
            print(
                "sanity checks run over the whole sweep when the shards are merged (shard \(shard.index)/\(shard.count) holds part of it)"
            )
        } else {
            for warning in try store.refreshWarnings() { print(warning.description) }
        }
    }
}
