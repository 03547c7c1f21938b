import Agents
import Attacks
import Dispatch
import Environments
import Foundation
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
        var policies: [String: (policy: Policy<Float>, environment: String)] = [:]
        for path in Set(todo.map(\.policy)) {
            let file = try PolicyFile.load(contentsOf: URL(fileURLWithPath: path))
            policies[path] = (try toolkit.policy(file), file.description.environment ?? "")
        }
        let next = Mutex(0)
        let failures = Mutex<[String]>([])
        let start = DispatchTime.now().uptimeNanoseconds
        let loaded = policies
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(todo.count, 1))) { _ in
            while true {
                let index = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < todo.count else { return }
                let cell = todo[index]
                do {
                    let (policy, environment) = loaded[cell.policy]!
                    let evaluation = AttackEvaluation(policy: policy, environment: environment, episodes: cell.episodes, seed: cell.seed,
                                                      norm: cell.norm, units: cell.units)
                    let report = try evaluation.run(try toolkit.makeAttack(cell.attack), epsilon: cell.epsilon, clean: try evaluation.cleanEpisodes())
                    try store.store(cell, environment: environment, report: report)
                    progress(Progress(finished: index + 1, total: todo.count, skipped: all.count - todo.count,
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
