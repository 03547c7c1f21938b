import Agents
import Foundation
import Linalg
import NeuralNet

/// What an attack is, declared once next to the attack: its name, a summary, its parameters
/// with their defaults and ranges, its family, and whether adversarial training may use it.
/// The registry, `--help`, the sanity checks of an evaluation, adversarial training and the
/// attack property tests all read this one declaration.
public struct AttackDescription: Sendable {
    /// What an attack knows of the policy. The sanity checks compare attacks by family: a
    /// random or black-box attack that beats every white-box one hints at gradient masking.
    public enum Family: String, Sendable, CaseIterable {
        /// No perturbation at all.
        case identity
        /// Random points of the ball; the policy is never queried.
        case random
        /// Gradients of the victim's outputs or of its critic.
        case whiteBox = "white-box"
        /// Only the victim's outputs (gradient estimates), or a surrogate's gradients.
        case blackBox = "black-box"
        /// A learned adversary's policy. It is trained for long-horizon damage, so it may beat
        /// every myopic attack legitimately: the checks compare it with nothing but itself at
        /// other ε.
        case learned
    }

    /// The ascent an attack runs. An iterative white-box attack on FGSM's own objective must do
    /// at least as much damage as FGSM's one step, or the evaluation is suspect.
    public enum Ascent: Sendable, Equatable {
        /// No gradient steps (random, learned or identity).
        case none
        /// A single step of size ε (FGSM).
        case oneStep
        /// Several steps; `onOneStepObjective` when they ascend FGSM's objective (cross-entropy
        /// of the clean action, or output distance).
        case iterative(onOneStepObjective: Bool)
    }

    public var name: String
    public var summary: String
    public var family: Family
    public var ascent: Ascent
    public var parameters: [AttackParameter]
    /// Whether adversarial training (`robust_attack`) may use it: it needs nothing but the
    /// policy, and no files. `robust_steps` sets its `steps` parameter where it has one.
    public var usableInTraining: Bool
    /// Parameter values that make it cheap (a few steps), for smoke runs and property tests.
    public var cheapSettings: [String: String]
    /// The environments it can attack: ids beginning with this (`grid:`); nil: any.
    public var environmentPrefix: String?
    private let make: @Sendable (AttackSpec, AttackContext) throws(AttackError) -> any Attack

    public init(
        name: String, summary: String, family: Family, ascent: Ascent = .none, parameters: [AttackParameter] = [],
        usableInTraining: Bool = false, cheapSettings: [String: String] = [:], environmentPrefix: String? = nil,
        make: @escaping @Sendable (AttackSpec, AttackContext) throws(AttackError) -> any Attack
    ) {
        self.name = name
        self.summary = summary
        self.family = family
        self.ascent = ascent
        self.parameters = parameters
        self.usableInTraining = usableInTraining
        self.cheapSettings = cheapSettings
        self.environmentPrefix = environmentPrefix
        self.make = make
    }

    /// The attack of a parsed spec whose name is this one; unknown parameters are errors.
    public func make(_ spec: AttackSpec, context: AttackContext) throws(AttackError) -> any Attack {
        try spec.requireKnown(parameters)
        return try make(spec, context)
    }

    /// One line for `--help`: the name, the summary and the parameters with their defaults.
    public var helpLine: String { AttackParameter.helpLine(name, summary, parameters) }
}

/// A parameter of an attack spec: its key, type and range, default and meaning.
public struct AttackParameter: Sendable {
    public enum Kind: Sendable {
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case choice([String])
        /// A policy file the attack loads through its context: a surrogate policy for the same
        /// environment, a learned adversary (observations to perturbation directions), or PA-AD's
        /// director (observations to directions in the victim's action space).
        case policyFile(PolicyFileRole)
        /// Free text the attack parses itself (e.g. `target=K|worst`).
        case text
    }

    public enum PolicyFileRole: Sendable { case surrogate, adversary, director }

    public var key: String
    public var kind: Kind
    /// The default as written in a spec; nil when there is none (a required file, or one of two
    /// alternatives such as PGD's `alpha` and `alpha_ratio`).
    public var defaultValue: String?
    public var summary: String

    public init(_ key: String, _ kind: Kind, default defaultValue: String?, _ summary: String) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
    }

    public static func integer(_ key: String, default value: Int?, in range: ClosedRange<Int>, _ summary: String) -> Self {
        Self(key, .integer(range), default: value.map { "\($0)" }, summary)
    }

    public static func number(_ key: String, default value: Double?, in range: ClosedRange<Double>, _ summary: String) -> Self {
        Self(key, .number(range), default: value.map { "\($0)" }, summary)
    }

    /// `name — summary [key=default, …]`, the help line of a spec's name and its parameters.
    public static func helpLine(_ name: String, _ summary: String, _ parameters: [AttackParameter]) -> String {
        let listed = parameters.map { p in p.defaultValue.map { "\(p.key)=\($0)" } ?? p.key }
        return "\(name) — \(summary)" + (listed.isEmpty ? "" : " [\(listed.joined(separator: ", "))]")
    }

    public static func choice(_ key: String, default value: String, from options: [String], _ summary: String) -> Self {
        Self(key, .choice(options), default: value, summary)
    }
}

/// What an attack may use when it is made from a spec: how to load the policy files its
/// parameters name (surrogates, learned adversaries).
public struct AttackContext: Sendable {
    public var loadPolicy: @Sendable (String) throws(PolicyFileError) -> Policy<Float>

    public init(
        loadPolicy: @escaping @Sendable (String) throws(PolicyFileError) -> Policy<Float> = { path throws(PolicyFileError) in
            try Policy.load(contentsOf: URL(fileURLWithPath: path))
        }
    ) {
        self.loadPolicy = loadPolicy
    }
}

/// The attacks known by name: makes attacks from spec strings, so the CLI, YAML and the results
/// database name attacks the same way. A value: extend it with `adding(_:)` and pass it on.
public struct AttackRegistry: Sendable {
    public private(set) var descriptions: [AttackDescription]

    public init(_ descriptions: [AttackDescription]) {
        self.descriptions = []
        for description in descriptions { self = adding(description) }
    }

    /// Gauntlet's attacks.
    public static let standard = AttackRegistry([
        NoAttack.description, UniformNoise.description, GaussianNoise.description, RandomSign.description, FGSM.description,
        PGD.description, MIFGSM.description, MAD.description, TargetedAttack.description, GradientEstimationAttack.nes,
        GradientEstimationAttack.spsa, TransferAttack.description, CriticAttack.description, LearnedAdversary.description,
        WorstCaseEnsemble.description, RobustSarsa.description, RobustSarsa.withMAD, OptimalAttack.description, PAAD.description,
    ])

    /// This registry with one more attack; a name already taken is a programming error.
    public func adding(_ description: AttackDescription) -> AttackRegistry {
        precondition(self.description(named: description.name) == nil, "attack '\(description.name)' declared twice")
        var copy = self
        copy.descriptions.append(description)
        return copy
    }

    public func description(named name: String) -> AttackDescription? { descriptions.first { $0.name == name } }

    /// The description of the attack a spec string names (`pgd:steps=20` → PGD's).
    public func description(ofSpec spec: String) -> AttackDescription? {
        description(named: String(spec.prefix { $0 != ":" }).lowercased())
    }

    /// The attack a spec string describes.
    public func make(_ text: String, context: AttackContext = AttackContext()) throws(AttackError) -> any Attack {
        let spec = try AttackSpec(parsing: text)
        guard let description = description(named: spec.name) else {
            throw AttackError("unknown attack '\(spec.name)' (known: \(descriptions.map(\.name).joined(separator: ", ")))")
        }
        return try description.make(spec, context: context)
    }

    /// The names adversarial training may use.
    public var trainingNames: [String] { descriptions.filter(\.usableInTraining).map(\.name) }

    /// Every attack, one line each, for `--help`.
    public var help: String { descriptions.map(\.helpLine).joined(separator: "\n") }
}

// MARK: - Parameters several attacks share

extension AttackParameter {
    /// Gradient steps.
    public static func steps(_ value: Int) -> Self { .integer("steps", default: value, in: 1...100_000, "ascent steps") }
    /// Step size as a fraction of ε.
    public static func alphaRatio(_ value: Double) -> Self {
        .number("alpha_ratio", default: value, in: 0...100, "step size as a fraction of ε")
    }
    /// Runs from new random starts; each observation keeps the best.
    public static let restarts = integer("restarts", default: 1, in: 1...10_000, "random restarts, the best kept per observation")
    /// Expectation over transformation: gradients averaged over draws of a randomised defense.
    public static let eot = integer(
        "eot", default: 1, in: 1...10_000, "gradients averaged over this many draws of a randomised defense")
}
