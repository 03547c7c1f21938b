import Agents
import Environments
import Linalg

/// An observation attack: given a batch of clean observations and a policy's differentiable
/// surface, returns perturbed observations inside the threat model. Deterministic given `random`.
public protocol Attack: Sendable {
    /// The attack as a spec string with every parameter, defaults included
    /// (`pgd:alpha_ratio=0.25,restarts=1,steps=10`).
    var spec: String { get }
    func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream) -> AttackResult<S>
    /// Throws if the attack cannot be used on this policy (a target beyond its actions, a
    /// critic it does not keep).
    func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError)
}

extension Attack {
    public func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError) {}
}

/// Perturbed observations and the policy evaluations spent finding them (forward passes, one
/// per observation and evaluation; a gradient counts as one).
public struct AttackResult<S: BLASScalar> {
    public var perturbed: Matrix<S>
    public var queries: Int

    public init(perturbed: Matrix<S>, queries: Int) {
        self.perturbed = perturbed
        self.queries = queries
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
        guard options.contains(text) else { throw AttackError("\(name): '\(key)' must be one of \(options.joined(separator: ", ")), got '\(text)'") }
        return text
    }
}

/// Writes `name:key=value,…` with keys sorted, numbers in their shortest form.
func formatSpec(_ name: String, _ parameters: [String: CustomStringConvertible]) -> String {
    guard !parameters.isEmpty else { return name }
    return name + ":" + parameters.keys.sorted().map { "\($0)=\(parameters[$0]!)" }.joined(separator: ",")
}

/// Makes attacks from spec strings; the one place that maps names to attacks, so the CLI, YAML
/// and the results database name attacks the same way.
public enum AttackRegistry {
    /// Every attack name with a one-line description.
    public static let catalogue: [(name: String, summary: String)] = [
        ("none", "no perturbation (the clean policy)"),
        ("uniform", "a uniformly random point of the ball"),
        ("gaussian", "Gaussian noise with standard deviation sigma (in ε units), projected onto the ball"),
        ("sign", "a random corner of the L∞ ball (random signs)"),
        ("fgsm", "one signed-gradient step of size ε (Huang et al. 2017; L2: normalised gradient)"),
        ("pgd", "projected gradient ascent: steps, alpha or alpha_ratio, random start, restarts, loss ce|cw"),
        ("mifgsm", "momentum iterative FGSM (Dong et al. 2018): steps, decay"),
        ("mad", "maximal action difference, PGD on KL(π(s) ‖ π(s+δ)) (SA-PPO): steps, alpha_ratio, restarts"),
        ("targeted", "force an action (target=K) or the worst-rated one (target=worst, min-best): steps, alpha_ratio"),
        ("nes", "black-box: NES gradient estimates (antithetic Gaussian), samples per step, sigma, steps"),
        ("spsa", "black-box: SPSA gradient estimates (Rademacher), samples per step, delta, steps"),
        ("transfer", "black-box: PGD on a surrogate policy file, applied to the victim: surrogate=PATH"),
        ("critic", "minimise the victim's own critic value V(s+δ) (Pattanaik et al. 2018): steps, alpha_ratio, restarts"),
        ("learned", "a learned adversary (PPO on the adversary's MDP, ATLA-style): adversary=PATH from gauntlet adversary train"),
        ("ensemble", "worst case per observation over fgsm, pgd, pgd (cw), mifgsm, mad and random sign"),
    ]

    public static func make(_ text: String) throws(AttackError) -> any Attack {
        let spec = try AttackSpec(parsing: text)
        switch spec.name {
        case "none": try spec.requireKnown([]); return NoAttack()
        case "uniform": return try UniformNoise(spec)
        case "gaussian": return try GaussianNoise(spec)
        case "sign": return try RandomSign(spec)
        case "fgsm": return try FGSM(spec)
        case "pgd": return try PGD(spec)
        case "mifgsm": return try MIFGSM(spec)
        case "mad": return try MAD(spec)
        case "targeted": return try TargetedAttack(spec)
        case "nes": return try GradientEstimationAttack(spec, estimator: .nes)
        case "spsa": return try GradientEstimationAttack(spec, estimator: .spsa)
        case "transfer": return try TransferAttack(spec)
        case "critic": return try CriticAttack(spec)
        case "learned": return try LearnedAdversary(spec)
        case "ensemble": try spec.requireKnown([]); return WorstCaseEnsemble()
        default:
            throw AttackError("unknown attack '\(spec.name)' (known: \(catalogue.map(\.name).joined(separator: ", ")))")
        }
    }
}

/// The identity: the clean observations.
public struct NoAttack: Attack {
    public init() {}
    public var spec: String { "none" }
    public func perturb<S: BLASScalar>(_ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream) -> AttackResult<S> {
        AttackResult(perturbed: observations, queries: 0)
    }
}
