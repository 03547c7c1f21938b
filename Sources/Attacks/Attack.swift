import Agents
import Environments
import Linalg

/// An observation attack: given a batch of clean observations and a policy's differentiable
/// surface, returns perturbed observations inside the threat model. Deterministic given `random`.
public protocol Attack: Sendable {
    /// The attack as a spec string with every parameter, defaults included
    /// (`pgd:alpha_ratio=0.25,restarts=1,steps=10`).
    var spec: String { get }
    func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream)
        -> AttackResult<S>
    /// `perturb` given the policy's outputs at the clean observations when the caller has them
    /// (the episode runner): attacks that label from the clean outputs skip that forward pass.
    /// The result is the same as `perturb`'s.
    func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S>
    /// `perturb` knowing each row's step in its episode (0 right after reset; nil: unknown), for
    /// adversaries whose choice depends on the time left (the optimal adversary of a gridworld).
    /// The episode runner calls this one; the others ignore `steps`.
    func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, steps: [Int]?, policy: Policy<S>, threatModel: ThreatModel,
        random: RandomStream
    ) -> AttackResult<S>
    /// Throws if the attack cannot be used on this policy (a target beyond its actions, a
    /// critic it does not keep).
    func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError)
    /// What the attack's own making says it should achieve (a learned adversary: the victim's
    /// return while it trained), for the sanity checks to compare with what it did.
    var expectedEffect: ExpectedEffect? { get }
    /// The attack made ready for its victim: attacks that first learn something about the
    /// victim (Robust Sarsa's value function) do it here, from rollouts in `environment` at
    /// `threatModel`, telling `progress` what they do; the others return themselves. Evaluations
    /// call it once per run before the first `perturb`.
    func prepared<S: BLASScalar>(
        for policy: Policy<S>, environment: String, threatModel: ThreatModel, progress: ((String) -> Void)?
    ) throws(AttackError) -> any Attack
    /// What the prepared attack learned about its victim and what that cost (nil: nothing).
    var preparation: AttackPreparation? { get }
    /// What preparation learned, as text a replay file keeps, so that re-executing the replay
    /// plays the same attack without preparing again (the optimal attack's plan, which a
    /// wall-clock time limit could make differ); nil when there is nothing to keep.
    var savedPreparation: String? { get }
    /// This attack with a saved preparation put back (`prepared` then returns it as it is).
    func restoringPreparation(_ saved: String) throws(AttackError) -> any Attack
}

/// What an attack learned about its victim before attacking, and at what cost.
public struct AttackPreparation: Sendable, Codable, Equatable {
    /// Victim environment steps spent learning (the attack's training budget, counted apart
    /// from the policy queries of the attacked episodes).
    public var environmentSteps: Int
    /// What it chose (e.g. the value function a calibration kept, and why).
    public var choice: String

    public init(environmentSteps: Int, choice: String) {
        self.environmentSteps = environmentSteps
        self.choice = choice
    }
}

extension Attack {
    public func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError) {}

    public var expectedEffect: ExpectedEffect? { nil }

    public func prepared<S: BLASScalar>(
        for policy: Policy<S>, environment: String, threatModel: ThreatModel, progress: ((String) -> Void)?
    ) throws(AttackError) -> any Attack { self }

    public var preparation: AttackPreparation? { nil }

    public var savedPreparation: String? { nil }

    public func restoringPreparation(_ saved: String) throws(AttackError) -> any Attack { self }

    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        perturb(observations, policy: policy, threatModel: threatModel, random: random)
    }

    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, steps: [Int]?, policy: Policy<S>, threatModel: ThreatModel,
        random: RandomStream
    ) -> AttackResult<S> {
        perturb(observations, cleanOutputs: cleanOutputs, policy: policy, threatModel: threatModel, random: random)
    }
}

/// An attack that labels from the policy's outputs at the clean observations: it implements
/// `perturb(_:cleanOutputs:policy:threatModel:random:)`, and its plain `perturb` passes nil
/// (computing them itself).
public protocol AttackUsingCleanOutputs: Attack {}

extension AttackUsingCleanOutputs {
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        perturb(observations, cleanOutputs: nil, policy: policy, threatModel: threatModel, random: random)
    }
}

/// The victim's mean return an attack expects at radius `epsilon`, and where that expectation
/// comes from.
public struct ExpectedEffect: Sendable, Codable, Equatable {
    public var epsilon: Double
    public var attackedReturn: Double
    public var source: String
    public init(epsilon: Double, attackedReturn: Double, source: String) {
        self.epsilon = epsilon
        self.attackedReturn = attackedReturn
        self.source = source
    }
}

/// Perturbed observations and the policy evaluations spent finding them (forward passes, one
/// per observation and evaluation; a gradient counts as one).
public struct AttackResult<S: BLASScalar> {
    public var perturbed: Matrix<S>
    public var queries: Int
    /// The policy's outputs at `perturbed`, when the attack computed them on a deterministic
    /// policy (a randomised policy must draw afresh where it acts).
    public var outputs: Matrix<S>?

    public init(perturbed: Matrix<S>, queries: Int, outputs: Matrix<S>? = nil) {
        self.perturbed = perturbed
        self.queries = queries
        self.outputs = outputs
    }
}

/// A bad attack spec; the description names the parameter and what was expected.
public struct AttackError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// An attack spec `name:key=value,key=value` split into its parts, with typed access that
/// rejects unknown keys and out-of-range values.
public struct AttackSpec: Equatable, Sendable {
    public var name: String
    public var parameters: [String: String]

    public init(parsing text: String) throws(AttackError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        name = String(parts[0]).lowercased()
        guard !name.isEmpty else { throw AttackError("attack spec '\(text)' has no name (expected name:key=value,…)") }
        parameters = [:]
        if parts.count == 2, !parts[1].isEmpty {
            for pair in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let keyValue = pair.split(separator: "=", maxSplits: 1)
                guard keyValue.count == 2, !keyValue[0].isEmpty else {
                    throw AttackError("attack spec '\(text)': '\(pair)' is not key=value")
                }
                let key = String(keyValue[0]).trimmingCharacters(in: .whitespaces)
                guard parameters[key] == nil else { throw AttackError("attack spec '\(text)': '\(key)' given twice") }
                parameters[key] = String(keyValue[1]).trimmingCharacters(in: .whitespaces)
            }
        }
    }

    /// Throws unless every key is one of `known`.
    public func requireKnown(_ known: [String]) throws(AttackError) {
        if let key = parameters.keys.sorted().first(where: { !known.contains($0) }) {
            let expected = known.isEmpty ? "no parameters" : known.joined(separator: ", ")
            throw AttackError("\(name): unknown parameter '\(key)' (expected \(expected))")
        }
    }

    public func double(_ key: String, default fallback: Double, in range: ClosedRange<Double>) throws(AttackError) -> Double {
        guard let text = parameters[key] else { return fallback }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw AttackError("\(name): '\(key)' must be a number in [\(range.lowerBound), \(range.upperBound)], got '\(text)'")
        }
        return value
    }

    public func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(AttackError) -> Int {
        guard let text = parameters[key] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw AttackError("\(name): '\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    public func choice(_ key: String, default fallback: String, from options: [String]) throws(AttackError) -> String {
        guard let text = parameters[key] else { return fallback }
        guard options.contains(text) else {
            throw AttackError("\(name): '\(key)' must be one of \(options.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }
}

/// Writes `name:key=value,…` with keys sorted, numbers in their shortest form.
func formatSpec(_ name: String, _ parameters: [String: CustomStringConvertible]) -> String {
    guard !parameters.isEmpty else { return name }
    return name + ":" + parameters.keys.sorted().map { "\($0)=\(parameters[$0]!)" }.joined(separator: ",")
}

// MARK: - Typed access through declared parameters

extension AttackSpec {
    /// Throws unless every key is one of `declared`.
    public func requireKnown(_ declared: [AttackParameter]) throws(AttackError) { try requireKnown(declared.map(\.key)) }

    /// The text given for `parameter`, else its default; a parameter without a default must be given.
    public func text(_ parameter: AttackParameter) throws(AttackError) -> String {
        if let text = parameters[parameter.key] ?? parameter.defaultValue { return text }
        throw AttackError("\(name): needs \(parameter.key)=… (\(parameter.summary))")
    }

    public func int(_ parameter: AttackParameter) throws(AttackError) -> Int {
        guard case .integer(let range) = parameter.kind else {
            preconditionFailure("\(name): '\(parameter.key)' is not an integer parameter")
        }
        _ = try text(parameter)
        return try int(parameter.key, default: parameter.defaultValue.flatMap { Int($0) } ?? 0, in: range)
    }

    public func double(_ parameter: AttackParameter) throws(AttackError) -> Double {
        guard case .number(let range) = parameter.kind else {
            preconditionFailure("\(name): '\(parameter.key)' is not a number parameter")
        }
        _ = try text(parameter)
        return try double(parameter.key, default: parameter.defaultValue.flatMap { Double($0) } ?? 0, in: range)
    }

    /// A number, nil when it is neither given nor defaulted (one of two alternatives).
    public func optionalDouble(_ parameter: AttackParameter) throws(AttackError) -> Double? {
        guard parameters[parameter.key] != nil || parameter.defaultValue != nil else { return nil }
        return try double(parameter)
    }

    /// One of the declared options.
    public func choice(_ parameter: AttackParameter) throws(AttackError) -> String {
        guard case .choice(let options) = parameter.kind else {
            preconditionFailure("\(name): '\(parameter.key)' is not a choice parameter")
        }
        return try choice(parameter.key, default: try text(parameter), from: options)
    }

    /// A 0/1 switch.
    public func flag(_ parameter: AttackParameter) throws(AttackError) -> Bool { try int(parameter) == 1 }
}

/// The identity: the clean observations.
public struct NoAttack: Attack {
    public static let description = AttackDescription(
        name: "none", summary: "no perturbation (the clean policy)", family: .identity
    ) { _, _ in
        NoAttack()
    }

    public init() {}
    public var spec: String { "none" }
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        AttackResult(perturbed: observations, queries: 0)
    }
}
