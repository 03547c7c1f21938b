import Agents
import Attacks
import Environments
import Foundation
import Linalg
import NeuralNet

/// A recorded evaluation: every step of every episode, in a safetensors file that
/// `safetensors.numpy.load_file` reads as it is.
///
/// Tensors (T steps in all, E episodes, d observation dimensions):
/// `observations` F32 [T, d] (what the environment showed), `perceived` F32 [T, d] (what the
/// policy saw after the attack), `clean_actions` and `actions` (I64 [T] for discrete actions,
/// F32 [T, k] for continuous ones), `rewards` F64 [T], `episode_lengths` I64 [E], `seeds` I64 [E],
/// `terminated` U8 [E], `queries` I64 [E]. Episode e's steps are the `episode_lengths[e]` rows after
/// those of the episodes before it. `__metadata__["gauntlet_replay"]` is the JSON `Header`.
public struct Replay: Equatable, Sendable {
    /// How to reproduce the evaluation.
    public struct Header: Equatable, Sendable, Codable {
        public var format = 1
        public var policy: String
        /// FNV-1a of the policy file's bytes, hex.
        public var policyHash: String
        public var environment: String
        public var attack: String?
        /// What the attack's preparation learned (`Attack.savedPreparation`), so a re-execution
        /// plays the same attack without preparing it again.
        public var attackPreparation: String?
        public var threatModel: ThreatModel?
        public var seed: UInt64
        public var episodes: Int
        public var selection: ActionSelection
        /// ε-greedy evaluation's probability of a random action; nil: none (files before it).
        public var exploration: Double?
        public var copies: Int
        public var precision: Precision
        public var gauntletVersion: String

        public init(
            policy: String, policyHash: String, environment: String, attack: String?, threatModel: ThreatModel?, seed: UInt64,
            episodes: Int, selection: ActionSelection, exploration: Double? = nil, copies: Int, precision: Precision,
            gauntletVersion: String
        ) {
            self.policy = policy
            self.policyHash = policyHash
            self.environment = environment
            self.attack = attack
            self.threatModel = threatModel
            self.seed = seed
            self.episodes = episodes
            self.selection = selection
            self.exploration = exploration
            self.copies = copies
            self.precision = precision
            self.gauntletVersion = gauntletVersion
        }
    }

    public var header: Header
    public var outcomes: [EpisodeOutcome]

    public init(header: Header, outcomes: [EpisodeOutcome]) {
        self.header = header
        self.outcomes = outcomes
    }

    public static let metadataKey = "gauntlet_replay"

    /// FNV-1a of a file's bytes, hex (the policy hash replays check).
    public static func hash(of url: URL) throws(PolicyFileError) -> String {
        guard let hash = FNV1a.hex(fileAt: url) else { throw PolicyFileError("cannot read \(url.path)") }
        return hash
    }

    // MARK: - Writing

    public var safetensors: Safetensors {
        let steps = outcomes.flatMap(\.trace)
        let d = steps.first?.observation.count ?? 0
        var tensors: [String: Safetensors.Tensor] = [
            "observations": .init(shape: [steps.count, d], float32: steps.flatMap(\.observation)),
            "perceived": .init(shape: [steps.count, d], float32: steps.flatMap(\.perceived)),
            "rewards": .init(shape: [steps.count], float64: steps.map(\.reward)),
            "episode_lengths": .init(shape: [outcomes.count], int64: outcomes.map { Int64($0.length) }),
            "seeds": .init(shape: [outcomes.count], int64: outcomes.map { Int64(bitPattern: $0.seed) }),
            "terminated": .init(shape: [outcomes.count], values: .u8(outcomes.map { $0.terminated ? 1 : 0 })),
            "queries": .init(shape: [outcomes.count], int64: outcomes.map { Int64($0.queries) }),
        ]
        for (name, actions) in [("clean_actions", steps.map(\.cleanAction)), ("actions", steps.map(\.action))] {
            if case .continuous(let first)? = actions.first {
                let values: [Float] = actions.flatMap { action -> [Float] in
                    if case .continuous(let a) = action { return a }
                    return []
                }
                tensors[name] = .init(shape: [actions.count, first.count], float32: values)
            } else {
                tensors[name] = .init(
                    shape: [actions.count], int64: actions.map { if case .discrete(let a) = $0 { Int64(a) } else { -1 } })
            }
        }
        let encoder = JSONEncoder.gauntlet()
        return Safetensors(
            tensors: tensors, metadata: [Self.metadataKey: String(decoding: try! encoder.encode(header), as: UTF8.self)])
    }

    public func write(to url: URL) throws(SafetensorsError) { try safetensors.write(to: url) }

    // MARK: - Reading

    public static func load(contentsOf url: URL) throws(SafetensorsError) -> Replay {
        do { return try Replay(try Safetensors.read(contentsOf: url)) } catch {
            throw SafetensorsError("\(url.path): \(error.description)")
        }
    }

    /// Interprets a parsed safetensors file as a replay, checking that its tensors agree.
    public init(_ file: Safetensors) throws(SafetensorsError) {
        func fail(_ message: String) -> SafetensorsError { SafetensorsError(message) }
        guard let json = file.metadata[Self.metadataKey] else {
            throw fail("not a Gauntlet replay (no '\(Self.metadataKey)' metadata)")
        }
        let decoder = JSONDecoder.gauntlet()
        let header: Header
        do { header = try decoder.decode(Header.self, from: Data(json.utf8)) } catch {
            throw fail("invalid replay header: \(error)")
        }
        guard let lengths = file.tensors["episode_lengths"]?.int64, let seeds = file.tensors["seeds"]?.int64,
            let queries = file.tensors["queries"]?.int64, case .u8(let terminated)? = file.tensors["terminated"]?.values,
            let observations = file.tensors["observations"], let perceived = file.tensors["perceived"]?.float32,
            let rewards = file.tensors["rewards"]?.float64, let cleanActions = file.tensors["clean_actions"],
            let actions = file.tensors["actions"],
            let observationValues = observations.float32
        else { throw fail("missing or mistyped replay tensors") }
        guard lengths.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else {
            throw fail("episode lengths must lie in 0…\(Int32.max)")
        }
        let total = lengths.reduce(0, +)
        let d = observations.shape.count == 2 ? observations.shape[1] : 0
        guard [seeds.count, queries.count, terminated.count].allSatisfy({ $0 == lengths.count }),
            Int64(rewards.count) == total, Int64(observations.shape.first ?? -1) == total,
            perceived.count == observationValues.count,
            Int64(cleanActions.shape.first ?? -1) == total, Int64(actions.shape.first ?? -1) == total
        else { throw fail("replay tensors disagree in size") }
        func action(_ tensor: Safetensors.Tensor, _ t: Int) -> Action {
            if let values = tensor.int64 { return .discrete(Int(values[t])) }
            let k = tensor.shape.count == 2 ? tensor.shape[1] : 1
            return .continuous(Array(tensor.float32![(t * k)..<((t + 1) * k)]))
        }
        guard cleanActions.int64 != nil || cleanActions.float32 != nil, actions.int64 != nil || actions.float32 != nil else {
            throw fail("actions must be I64 or F32")
        }
        var outcomes: [EpisodeOutcome] = []
        var t = 0
        for e in 0..<lengths.count {
            var outcome = EpisodeOutcome(seed: UInt64(bitPattern: seeds[e]))
            outcome.length = Int(lengths[e])
            outcome.terminated = terminated[e] != 0
            outcome.queries = Int(queries[e])
            for _ in 0..<outcome.length {
                var step = TraceStep(
                    observation: Array(observationValues[(t * d)..<((t + 1) * d)]),
                    perceived: Array(perceived[(t * d)..<((t + 1) * d)]),
                    cleanAction: action(cleanActions, t), action: action(actions, t))
                step.reward = rewards[t]
                outcome.episodeReturn += rewards[t]
                if step.perceived != step.observation { outcome.attackedSteps += 1 }
                outcome.trace.append(step)
                t += 1
            }
            outcomes.append(outcome)
        }
        self.init(header: header, outcomes: outcomes)
    }

    /// The first place where `other` differs from this replay (episode and step), or nil.
    public func firstDifference(from other: Replay) -> (episode: Int, step: Int?, what: String)? {
        guard outcomes.count == other.outcomes.count else {
            return (min(outcomes.count, other.outcomes.count), nil, "the number of episodes")
        }
        for (e, (a, b)) in zip(outcomes, other.outcomes).enumerated() {
            guard a.seed == b.seed else { return (e, nil, "the seed") }
            for (t, (x, y)) in zip(a.trace, b.trace).enumerated() where x != y {
                let what =
                    x.observation != y.observation
                    ? "the observation"
                    : x.perceived != y.perceived
                        ? "the perturbed observation"
                        : x.action != y.action ? "the action" : x.cleanAction != y.cleanAction ? "the clean action" : "the reward"
                return (e, t, what)
            }
            if a.trace.count != b.trace.count { return (e, min(a.trace.count, b.trace.count), "the episode length") }
            if a.terminated != b.terminated || a.queries != b.queries { return (e, nil, "the episode's end or queries") }
        }
        return nil
    }
}

extension Replay {
    /// Runs the recorded evaluation again with `policy` (the same seeds, attack, threat model,
    /// action selection and grouping), keeping full traces; the recorded attack is made with `toolkit`.
    public func reexecute<S: BLASScalar>(policy: Policy<S>, attack replacement: (any Attack)? = nil, toolkit: Toolkit = .standard)
        throws -> Replay
    {
        var attack: (any Attack)? = replacement
        if attack == nil, let spec = header.attack {
            attack = try toolkit.makeAttack(spec)
            if let saved = header.attackPreparation { attack = try attack!.restoringPreparation(saved) }
        }
        var runner = EpisodeRunner(
            policy: policy, environment: header.environment, selection: header.selection, copies: header.copies,
            attack: attack, threatModel: attack == nil ? nil : header.threatModel)
        runner.exploration = header.exploration ?? 0
        runner.recordTraces = true
        var rerun = Replay(header: header, outcomes: try runner.run(episodes: header.episodes, seed: header.seed))
        rerun.header.attack = attack?.spec
        if replacement != nil { rerun.header.attackPreparation = attack?.savedPreparation }
        return rerun
    }

    /// The recorded clean observations attacked offline (no environment steps): how often each
    /// observation's action (the mode) would flip, with a Wilson interval.
    public func offlineFlipRate<S: BLASScalar>(policy: Policy<S>, attack: any Attack, threatModel: ThreatModel)
        throws(AttackError) -> (
            flips: Int, steps: Int, rate: ConfidenceInterval
        )
    {
        let attack = try attack.prepared(for: policy, environment: header.environment, threatModel: threatModel, progress: nil)
        let steps = outcomes.flatMap(\.trace)
        let random = RandomStream(seed: header.seed).child("offline")
        var flips = 0
        for start in stride(from: 0, to: steps.count, by: 256) {
            let chunk = steps[start..<min(start + 256, steps.count)]
            let clean = Matrix<S>(chunk.map { $0.observation.map { S($0) } })
            let perturbed = attack.perturb(clean, policy: policy, threatModel: threatModel, random: random).perturbed
            let before = policy.actions(clean)
            let after = policy.actions(perturbed)
            flips += zip(before, after).filter { $0 != $1 }.count
        }
        return (flips, steps.count, ConfidenceInterval.wilson(successes: flips, trials: max(steps.count, 1)))
    }
}

/// What re-executing a replay found: whether every step reproduced, and where it first diverged.
public struct ReplayVerification: Sendable, Encodable {
    public var reproduced: Bool
    public var episodes: Int
    public var steps: Int
    /// The first divergence (`episode 3 (seed 3), step 17: the action differs`), if any.
    public var divergence: String?
}

/// Another attack run on a replay's recorded seeds, paired with the recorded returns.
public struct ReplayComparison: Sendable, Encodable {
    public var recordedAttack: String?
    public var attack: String
    public var recorded: ReturnSummary
    public var attacked: ReturnSummary
    /// Recorded minus new returns, per episode: mean and paired bootstrap 95% interval.
    public var difference: AttackReport.Drop
}

/// Another attack on a replay's recorded observations, without stepping the environment.
public struct ReplayOfflineAttack: Sendable, Encodable {
    public var attack: String
    public var steps: Int
    public var actionFlipRate: AttackReport.Rate
}

extension Replay {
    /// Re-executes the recording with `policy` and says whether it reproduces bit for bit.
    public func verify<S: BLASScalar>(policy: Policy<S>, toolkit: Toolkit = .standard) throws -> ReplayVerification {
        let rerun = try reexecute(policy: policy, toolkit: toolkit)
        var result = ReplayVerification(
            reproduced: true, episodes: outcomes.count, steps: outcomes.reduce(0) { $0 + $1.length }, divergence: nil)
        if let difference = firstDifference(from: rerun) {
            let seed = difference.episode < outcomes.count ? " (seed \(outcomes[difference.episode].seed))" : ""
            result.reproduced = false
            result.divergence =
                "episode \(difference.episode)\(seed)" + (difference.step.map { ", step \($0)" } ?? "")
                + ": \(difference.what) differs"
        }
        return result
    }

    /// Runs `attack` on the recorded seeds under the recorded threat model and pairs its returns
    /// with the recorded ones.
    public func compare<S: BLASScalar>(policy: Policy<S>, attack: any Attack) throws -> ReplayComparison {
        guard let threatModel = header.threatModel else {
            throw ReplayError("the replay records a clean evaluation: it has no threat model for another attack")
        }
        var recordedHeader = header
        recordedHeader.threatModel = threatModel
        let rerun = try Replay(header: recordedHeader, outcomes: outcomes).reexecute(policy: policy, attack: attack)
        let recordedReturns = outcomes.map(\.episodeReturn)
        let newReturns = rerun.outcomes.map(\.episodeReturn)
        let interval = ConfidenceInterval.bootstrapPairedDifference(
            recordedReturns, newReturns, random: RandomStream(seed: header.seed).child("replay"))
        return ReplayComparison(
            recordedAttack: header.attack, attack: attack.spec,
            recorded: ReturnSummary(returns: recordedReturns, seed: header.seed),
            attacked: ReturnSummary(returns: newReturns, seed: header.seed),
            difference: .init(
                mean: Statistics.mean(zip(recordedReturns, newReturns).map { $0 - $1 }), ci95: [interval.lower, interval.upper]))
    }

    /// `attack` on the recorded observations (no environment steps): the action-flip rate.
    public func attackOffline<S: BLASScalar>(policy: Policy<S>, attack: any Attack) throws -> ReplayOfflineAttack {
        guard let threatModel = header.threatModel else {
            throw ReplayError("the replay records a clean evaluation: it has no threat model for another attack")
        }
        let (flips, steps, rate) = try offlineFlipRate(policy: policy, attack: attack, threatModel: threatModel)
        return ReplayOfflineAttack(
            attack: attack.spec, steps: steps,
            actionFlipRate: .init(value: Double(flips) / Double(max(steps, 1)), ci95: [rate.lower, rate.upper]))
    }
}

/// A replay that cannot do what was asked of it; the description says why.
public struct ReplayError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
