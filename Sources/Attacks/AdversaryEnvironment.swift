import Agents
import Environments
import Foundation
import Linalg
import NeuralNet

/// The adversary's side of a state-adversarial MDP (Zhang et al. 2020; ATLA, Zhang et al. 2021):
/// the agent observes the victim's clean observation `s`, acts with `a ∈ [−1, 1]^d`, the victim
/// sees `s + δ` with `δ = ε · u ⊙ a` projected onto the threat model (L∞ ball, observation
/// bounds; units `u = 1` raw, or with `units=normalized` the victim's own observation
/// normalisation, as SA-PPO and ATLA measure ε on MuJoCo), takes its greedy/mode action, and the
/// adversary receives the negated reward. Training PPO here gives a learned adversary that
/// minimises the victim's return.
///
/// With `kind=paad` the agent is PA-AD's director (Sun et al. 2022) instead: it acts with a
/// direction `d ∈ [−1, 1]^m` in the victim's (continuous) action space, and PA-AD's actor
/// (`PAAD.Actor`) turns it into the observation in the threat model that moves the victim's
/// action along `d`.
///
/// Id: `adversary:env=ID,victim=PATH,eps=E[,units=normalized][,precision=f64][,kind=paad]`
/// (the victim acts in that precision, f32 by default), made by the family
/// `AdversaryEnvironment.family` (part of `Toolkit.standard`'s environments); the step limit is
/// the victim environment's.
public final class AdversaryEnvironment: Environment {
    public let id: String
    public let victim: any Environment
    /// The victim environment's failure (an external process's), so runners see it.
    public var failure: EnvironmentError? { victim.failure }
    public var truncatedItself: Bool { victim.truncatedItself }
    /// The policy under attack (ATLA replaces it with the current agent before each adversary phase).
    public var victimPolicy: AnyPrecisionPolicy
    /// Where perturbations may go (ATLA moves ε along its schedule).
    public var threatModel: ThreatModel
    /// What the agent's action is: an observation perturbation, or PA-AD's action direction.
    public let kind: Kind

    /// The attack an adversary trained here serves, which fixes what its actions mean.
    public enum Kind: String, Sendable, CaseIterable {
        /// Actions are perturbation directions in observation space (`learned`).
        case learned
        /// Actions are directions in the victim's action space, for PA-AD's actor (`paad`).
        case paad
    }

    public init(
        id: String, victim: any Environment, victimPolicy: AnyPrecisionPolicy, epsilon: Double, units: ThreatModel.Units = .raw,
        scale: [Double]? = nil, kind: Kind = .learned
    ) {
        self.id = id
        self.victim = victim
        self.victimPolicy = victimPolicy
        precondition(kind == .learned || victim.actionSpace.dimension != nil, "PA-AD needs a continuous action space")
        self.kind = kind
        threatModel = ThreatModel(epsilon: epsilon, units: units, scale: scale, bounds: victim.observationSpace)
    }

    /// The `adversary:` family: victims are loaded with `decoding`, their environments made by
    /// `decoding.environments`.
    public static func family(decoding: PolicyDecoding) -> EnvironmentFamily {
        EnvironmentFamily(
            prefix: "adversary:",
            summary:
                "adversary:env=ID,victim=PATH,eps=E[,units=normalized][,kind=paad] — perturb a victim policy's observations"
        ) {
            id throws(EnvironmentError) in
            let spec: AttackSpec
            do throws(AttackError) {
                spec = try AttackSpec(parsing: id)
                try spec.requireKnown(["env", "victim", "eps", "units", "precision", "kind"])
            } catch { throw EnvironmentError("'\(id)': \(error.description)") }
            guard let environment = spec.parameters["env"], let path = spec.parameters["victim"],
                let epsilon = spec.parameters["eps"].flatMap(Double.init), epsilon >= 0, epsilon.isFinite
            else { throw EnvironmentError("'\(id)': an adversary environment is adversary:env=ID,victim=PATH,eps=E") }
            guard let precision = Precision(rawValue: spec.parameters["precision"] ?? "f32") else {
                throw EnvironmentError("'\(id)': precision must be f32 or f64")
            }
            let units = spec.parameters["units"] ?? "raw"
            guard units == "raw" || units == "normalized" else {
                throw EnvironmentError("'\(id)': units must be raw or normalized, got '\(units)'")
            }
            guard let kind = Kind(rawValue: spec.parameters["kind"] ?? "learned") else {
                throw EnvironmentError("'\(id)': kind must be learned or paad, got '\(spec.parameters["kind"]!)'")
            }
            let victim = try decoding.environments.make(environment)
            let policy: Policy<Float>
            do throws(PolicyFileError) {
                policy = try Policy.load(contentsOf: URL(fileURLWithPath: path), decoding: decoding)
            } catch {
                throw EnvironmentError("'\(id)': victim \(error.description)")
            }
            guard policy.observationDimension == victim.base.observationSpace.dimension else {
                throw EnvironmentError(
                    "'\(id)': the victim policy expects \(policy.observationDimension) observation values, \(environment) gives \(victim.base.observationSpace.dimension)"
                )
            }
            if kind == .paad, case .discrete = victim.base.actionSpace {
                throw EnvironmentError(
                    "'\(id)': PA-AD's director proposes directions in a continuous action space; \(environment)'s actions are discrete"
                )
            }
            let adversary = AdversaryEnvironment(
                id: id, victim: victim.base,
                victimPolicy: precision == .f32 ? .float(policy) : .double(policy.converted(to: Double.self)),
                epsilon: epsilon, units: units == "normalized" ? .normalized : .raw,
                scale: units == "normalized" ? try policy.normalizedUnits() : nil, kind: kind)
            return TimeLimit(adversary, maxEpisodeSteps: victim.maxEpisodeSteps)
        }
    }

    public var observationSpace: BoxSpace { victim.observationSpace }
    public var actionSpace: ActionSpace {
        let dimension = kind == .paad ? victim.actionSpace.dimension! : victim.observationSpace.dimension
        return .box(BoxSpace(symmetric: Array(repeating: 1, count: dimension)))
    }
    public var stateLabels: [String] { victim.stateLabels }
    public var state: [Double] { victim.state }
    public func setState(_ state: [Double]) throws(EnvironmentError) { try victim.setState(state) }
    public func resetState(seed: UInt64?) { victim.resetState(seed: seed) }
    public func observe(into observation: UnsafeMutableBufferPointer<Float>) { victim.observe(into: observation) }
    public func renderSVG() -> String { victim.renderSVG() }
    public var random: RandomStream {
        get { victim.random }
        set { victim.random = newValue }
    }
    public var snapshot: EnvironmentSnapshot { victim.snapshot }
    public func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) { try victim.restore(snapshot) }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        guard case .continuous(let direction) = action else {
            preconditionFailure("AdversaryEnvironment: invalid action \(action)")
        }
        let clean = Matrix<Float>(row: victim.observation)
        let victimAction: Action =
            switch victimPolicy {
            case .float(let policy): victimAction(clean, action: direction, policy: policy)
            case .double(let policy): victimAction(clean.converted(to: Double.self), action: direction, policy: policy)
            }
        let (reward, terminated) = victim.advance(victimAction)
        return (-reward, terminated)
    }

    /// The victim's action at the observation the adversary's action makes of `clean`.
    func victimAction<S: BLASScalar>(_ clean: Matrix<S>, action: [Float], policy: Policy<S>) -> Action {
        let perturbed =
            switch kind {
            case .learned: Self.perturb(clean, direction: Matrix(row: action.map { S(Double($0)) }), threatModel: threatModel)
            case .paad:
                PAAD.Actor().perturb(
                    clean, directions: Matrix(row: action.map { S(Double(min(max($0, -1), 1))) }), policy: policy,
                    threatModel: threatModel
                ).perturbed
            }
        return policy.actions(perturbed, selection: .mode)[0]
    }

    /// `s + ε · u ⊙ clip(a, −1, 1)`, projected onto the threat model.
    public static func perturb<S: BLASScalar>(_ clean: Matrix<S>, direction: Matrix<S>, threatModel: ThreatModel) -> Matrix<S> {
        var shifted = clean
        for r in 0..<clean.rows {
            for j in 0..<clean.columns {
                let a = min(max(Double(direction[r, j]), -1), 1)
                shifted[r, j] += S(threatModel.epsilon * threatModel.scale[j] * a)
            }
        }
        return threatModel.project(shifted, around: clean)
    }
}
