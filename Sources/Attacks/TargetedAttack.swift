import Agents
import Environments
import Linalg

/// Targeted attack: PGD that drives a discrete policy to a chosen action, maximising
/// `log softmax(z(s + δ))[t]`. `target=K` forces action K; `target=worst` picks, per
/// observation, the action the policy's own outputs rate lowest at the clean observation — for a
/// Q-network the action its critic rates worst (the "min-best" attack of Pattanaik et al. 2018).
/// Parameters: `target` (worst), `steps` (20), `alpha_ratio` (0.1), `restarts` (1).
public struct TargetedAttack: AttackUsingCleanOutputs {
    public enum Target: Equatable, Sendable {
        case action(Int)
        case worst
    }

    public var target: Target
    public var steps: Int
    public var alphaRatio: Double
    public var restarts: Int

    public init(target: Target = .worst, steps: Int = 20, alphaRatio: Double = 0.1, restarts: Int = 1) {
        self.target = target
        self.steps = steps
        self.alphaRatio = alphaRatio
        self.restarts = restarts
    }

    static let stepsParameter = AttackParameter.steps(20)
    static let alphaRatioParameter = AttackParameter.alphaRatio(0.1)
    static let targetParameter = AttackParameter(
        "target", .text, default: "worst", "an action index, or worst: the action the clean outputs rate lowest")
    public static let description = AttackDescription(
        name: "targeted",
        summary: "force an action (target=K) or the worst-rated one (target=worst, min-best; discrete policies)",
        family: .whiteBox, ascent: .iterative(onOneStepObjective: false),
        parameters: [targetParameter, stepsParameter, alphaRatioParameter, AttackParameter.restarts],
        cheapSettings: ["steps": "4"]
    ) { spec, _ throws(AttackError) in
        var target = Target.worst
        if let text = spec.parameters["target"], text != "worst" {
            guard let action = Int(text), action >= 0 else {
                throw AttackError("targeted: 'target' must be an action index or worst, got '\(text)'")
            }
            target = .action(action)
        }
        return TargetedAttack(
            target: target, steps: try spec.int(stepsParameter),
            alphaRatio: try spec.double(alphaRatioParameter),
            restarts: try spec.int(AttackParameter.restarts))
    }

    public var spec: String {
        let name: CustomStringConvertible =
            switch target {
            case .action(let a): a
            case .worst: "worst"
            }
        return formatSpec("targeted", ["target": name, "steps": steps, "alpha_ratio": alphaRatio, "restarts": restarts])
    }

    public func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError) {
        guard let n = policy.actionSpace.actionCount else {
            throw AttackError("targeted: needs a discrete action space, got \(policy.actionSpace.description)")
        }
        if case .action(let a) = target, a >= n { throw AttackError("targeted: target \(a) is not one of the \(n) actions") }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        precondition(policy.actionSpace.actionCount != nil, "a targeted attack needs discrete actions (validate(for:) first)")
        let clean = Objective.cleanOutputs(given: cleanOutputs, policy: policy, at: observations, samples: 1)
        let targets = (0..<observations.rows).map { r -> Int in
            switch target {
            case .action(let a): return a
            case .worst: return clean.row(r).indices.min { clean[r, $0] < clean[r, $1] }!
            }
        }
        return GradientAscent(steps: steps, stepSize: alphaRatio * threatModel.epsilon, randomStart: false, restarts: restarts)
            .run(observations, objective: .targeted(targets: targets), policy: policy, threatModel: threatModel, random: random)
    }
}
