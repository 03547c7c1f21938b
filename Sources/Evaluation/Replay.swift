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
        public var threatModel: ThreatModel?
        public var seed: UInt64
        public var episodes: Int
        public var selection: ActionSelection
        public var copies: Int
        public var precision: Precision
        public var gauntletVersion: String

        public init(
            policy: String, policyHash: String, environment: String, attack: String?, threatModel: ThreatModel?, seed: UInt64,
            episodes: Int, selection: ActionSelection, copies: Int, precision: Precision, gauntletVersion: String
        ) {
            self.policy = policy
            self.policyHash = policyHash
            self.environment = environment
            self.attack = attack
            self.threatModel = threatModel
            self.seed = seed
            self.episodes = episodes
            self.selection = selection
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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
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
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
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
        if attack == nil, let spec = header.attack { attack = try toolkit.makeAttack(spec) }
        var runner = EpisodeRunner(
            policy: policy, environment: header.environment, selection: header.selection, copies: header.copies,
            attack: attack, threatModel: attack == nil ? nil : header.threatModel)
        runner.recordTraces = true
        var rerun = Replay(header: header, outcomes: try runner.run(episodes: header.episodes, seed: header.seed))
        rerun.header.attack = attack?.spec
        return rerun
    }

    /// The recorded clean observations attacked offline (no environment steps): how often each
    /// observation's action (the mode) would flip, with a Wilson interval.
    public func offlineFlipRate<S: BLASScalar>(policy: Policy<S>, attack: any Attack, threatModel: ThreatModel) -> (
        flips: Int, steps: Int, rate: ConfidenceInterval
    ) {
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
