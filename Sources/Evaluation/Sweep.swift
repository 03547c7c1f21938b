import Agents
import Attacks
import Dispatch
import Environments
import Foundation
import Linalg
import NeuralNet
import Synchronization

/// Runs a sweep: every cell of the grid not yet in the results database, `jobs` at a time,
/// each committed atomically when it finishes. Cells are independent and seeded, so the
/// results do not depend on `jobs`, on the order cells finish, or on interruptions: rerunning
/// after a `kill -9` finishes the missing cells and nothing else.
public struct Sweep: Sendable {
    public var spec: SweepSpec
    public var jobs: Int
    /// Run only shard `index` of `count`.
    public var shard: (index: Int, count: Int)?
    /// Reads the policies and makes the attacks.
    public var toolkit: Toolkit

    public init(spec: SweepSpec, jobs: Int, shard: (index: Int, count: Int)? = nil, toolkit: Toolkit = .standard) {
        self.spec = spec
        self.jobs = max(1, jobs)
        self.shard = shard
        self.toolkit = toolkit
    }

    public struct Progress: Sendable {
        public var finished: Int
        public var total: Int
        public var skipped: Int
        public var elapsedSeconds: Double
        public var lastCell: String
    }

    /// Runs the missing cells; returns how many it ran.
    @discardableResult
    public func run(store: ResultsStore, progress: @escaping @Sendable (Progress) -> Void = { _ in }) throws -> Int {
        try store.register(spec)
        let all = shard.map { spec.cells(shard: $0.index, of: $0.count) } ?? spec.cells
        let done = try store.finishedKeys()
        let todo = all.filter { !done.contains($0.key) }
        var policies: [String: (policy: PolicyInEitherPrecision, environment: String)] = [:]
        for path in Set(todo.map(\.policy)) {
            let file = try PolicyFile.load(contentsOf: URL(fileURLWithPath: path))
            policies[path] = (PolicyInEitherPrecision(try toolkit.policy(file)), file.description.environment ?? "")
        }
        let failures = Mutex<[String]>([])
        let start = DispatchTime.now().uptimeNanoseconds
        let loaded = policies
        // Clean episodes depend on neither the attack nor ε: each set runs once and every cell
        // of its policy, seeds and units is paired with it.
        @Sendable func evaluation<S: BLASScalar>(_ cell: SweepSpec.Cell, _: S.Type) -> AttackEvaluation<S> {
            let (policy, environment) = loaded[cell.policy]!
            return AttackEvaluation(
                policy: policy.in(S.self), environment: cell.environment ?? environment, episodes: cell.episodes, seed: cell.seed,
                norm: cell.norm,
                units: cell.units)
        }
        @Sendable func runCleanEpisodes(_ cell: SweepSpec.Cell) throws(EnvironmentError) -> [EpisodeOutcome] {
            switch cell.precision {
            case .f32: try evaluation(cell, Float.self).cleanEpisodes()
            case .f64: try evaluation(cell, Double.self).cleanEpisodes()
            }
        }
        @Sendable func report(_ cell: SweepSpec.Cell, clean: [EpisodeOutcome]) throws -> AttackReport {
            let attack = try toolkit.makeAttack(cell.attack)
            return switch cell.precision {
            case .f32: try evaluation(cell, Float.self).run(attack, epsilon: cell.epsilon, clean: clean)
            case .f64: try evaluation(cell, Double.self).run(attack, epsilon: cell.epsilon, clean: clean)
            }
        }
        let cleanCells = Dictionary(todo.map { (CleanEpisodesKey($0), $0) }) { first, _ in first }.sorted { $0.key < $1.key }
        let cleanEpisodes = Mutex<[CleanEpisodesKey: [EpisodeOutcome]]>([:])
        DispatchQueue.concurrentPerform(iterations: cleanCells.count) { index in
            let (key, cell) = cleanCells[index]
            do {
                let episodes = try runCleanEpisodes(cell)
                cleanEpisodes.withLock { $0[key] = episodes }
            } catch {
                failures.withLock { $0.append("\(cell.key) (clean episodes): \(error)") }
            }
        }
        let clean = cleanEpisodes.withLock { $0 }
        let next = Mutex(0)
        let finished = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(todo.count, 1))) { _ in
            while true {
                let index = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < todo.count else { return }
                let cell = todo[index]
                guard let cleanEpisodes = clean[CleanEpisodesKey(cell)] else { continue }  // its failure is recorded
                do {
                    let report = try report(cell, clean: cleanEpisodes)
                    try store.store(cell, environment: cell.environment ?? loaded[cell.policy]!.environment, report: report)
                    let count = finished.withLock { value -> Int in
                        value += 1
                        return value
                    }
                    progress(
                        Progress(
                            finished: count, total: todo.count, skipped: all.count - todo.count,
                            elapsedSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, lastCell: cell.key))
                } catch {
                    failures.withLock { $0.append("\(cell.key): \(error)") }
                }
            }
        }
        let errors = failures.withLock { $0 }
        if !errors.isEmpty { throw SweepError("\(errors.count) cell(s) failed; the first: \(errors[0])") }
        return todo.count
    }
}

public struct SweepError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What a sweep cell's clean episodes depend on: the policy, its environment, the seeds, and whether the threat
/// model's units need the clean observations (std units scale by their spread).
struct CleanEpisodesKey: Hashable, Comparable {
    var policy: String
    var seed: UInt64
    var episodes: Int
    var units: ThreatModel.Units
    var precision: Precision
    var environment: String

    init(_ cell: SweepSpec.Cell) {
        (policy, seed, episodes, units, precision) = (cell.policy, cell.seed, cell.episodes, cell.units, cell.precision)
        environment = cell.environment ?? ""
    }

    static func < (a: Self, b: Self) -> Bool {
        (a.policy, a.seed, a.episodes, a.units.rawValue, a.precision.rawValue, a.environment)
            < (b.policy, b.seed, b.episodes, b.units.rawValue, b.precision.rawValue, b.environment)
    }
}
