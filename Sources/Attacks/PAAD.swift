import Agents
import Linalg

/// PA-AD, policy adversarial actor–director (Sun et al. 2022, "Who is the strongest enemy?"):
/// a learned *director* proposes, for each clean observation, a direction `d ∈ [−1, 1]^m` in the
/// victim's action space, and an *actor* finds the observation in the threat model that moves
/// the victim's action along it. Learning directions in action space rather than perturbations
/// in observation space (`learned`, SA-RL) keeps the director's problem the size of the action
/// space, which is what lets it reach the optimal adversary where SA-RL's search is too large.
///
/// The director is a PPO policy trained against the frozen victim in the victim's MDP with the
/// actor inside (`AdversaryEnvironment` with `kind=paad`; `gauntlet adversary train --kind paad`),
/// its reward the victim's negated. The actor is projected gradient ascent on
/// `cos(μ(s′) − μ(s), d) + ‖μ(s′) − μ(s)‖₂` over the victim's outputs μ
/// (`Objective.policyDirection`, PA-AD's objective for continuous control), started at the clean
/// observation — deterministic, so training and evaluation see the same actor. By default one
/// step of size ε, as PA-AD's actor (FGSM): at the clean observation the cosine's gradient is
/// `Jᵀd/‖d‖`, so the step moves the action along `d` to first order; more steps also grow the
/// norm term, which can outweigh the cosine once the change is large. Continuous victims
/// (Gaussian PPO, deterministic actors). Parameters: `adversary=PATH` (the director's policy
/// file), and the actor's `steps` (1) and `alpha_ratio` (1).
public struct PAAD: Attack {
    let director: TrainedAdversary
    public var actor: Actor
    /// The victim's mean return over the director's last 100 training episodes, at its training ε.
    public var expectedEffect: ExpectedEffect? { director.expectedEffect }
    /// The victim environment steps the director's training took.
    public var preparation: AttackPreparation? { director.preparation }

    /// PA-AD's actor: the observation in the threat model whose outputs move furthest along the
    /// director's directions.
    public struct Actor: Sendable {
        public var steps: Int
        public var alphaRatio: Double

        public init(steps: Int = 1, alphaRatio: Double = 1) {
            self.steps = steps
            self.alphaRatio = alphaRatio
        }

        /// The observations that move each row's outputs along the row of `directions`.
        @_specialize(where S == Float)
        @_specialize(where S == Double)
        public func perturb<S: BLASScalar>(
            _ observations: Matrix<S>, directions: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel
        ) -> AttackResult<S> {
            let objective = Objective.policyDirection(
                clean: policy.outputs(observations).rowArrays.map { $0.map(Double.init) },
                directions: directions.rowArrays.map { $0.map(Double.init) })
            // The ascent starts at the clean observation, so it draws nothing from its stream.
            return GradientAscent(steps: steps, stepSize: alphaRatio * threatModel.epsilon, randomStart: false, restarts: 1)
                .run(observations, objective: objective, policy: policy, threatModel: threatModel, random: RandomStream(seed: 0))
        }
    }

    public init(director: Policy<Float>, path: String, actor: Actor = Actor()) {
        self.init(director: TrainedAdversary(policy: director, path: path), actor: actor)
    }

    init(director: TrainedAdversary, actor: Actor) {
        self.director = director
        self.actor = actor
    }

    static let adversaryParameter = AttackParameter(
        "adversary", .policyFile(.director), default: nil,
        "the director's policy file, from gauntlet adversary train --kind paad")
    static let stepsParameter = AttackParameter.steps(1)
    static let alphaRatioParameter = AttackParameter.alphaRatio(1)
    public static let description = AttackDescription(
        name: "paad", summary: "PA-AD: a learned director of action directions, a gradient actor (Sun et al. 2022)",
        family: .learned, parameters: [adversaryParameter, stepsParameter, alphaRatioParameter]
    ) { spec, context throws(AttackError) in
        PAAD(
            director: try TrainedAdversary.load(try spec.text(adversaryParameter), for: "paad", kind: .paad, context: context),
            actor: Actor(steps: try spec.int(stepsParameter), alphaRatio: try spec.double(alphaRatioParameter)))
    }

    public var spec: String {
        formatSpec("paad", ["adversary": director.path, "steps": actor.steps, "alpha_ratio": actor.alphaRatio])
    }

    public func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError) {
        guard !policy.head.isDiscrete else {
            throw AttackError(
                "paad: the director proposes directions in a continuous action space; this policy's actions are discrete")
        }
        let director = director.policies.float
        guard director.observationDimension == policy.observationDimension, director.outputDimension == policy.outputDimension
        else {
            throw AttackError(
                "paad: the director maps \(director.observationDimension) observation values to \(director.outputDimension) action directions, the victim has \(policy.observationDimension) and \(policy.outputDimension)"
            )
        }
    }

    /// Refuses a threat model whose units differ from those the director trained in.
    public func prepared<S: BLASScalar>(
        for policy: Policy<S>, environment: String, threatModel: ThreatModel, progress: ((String) -> Void)?
    ) throws(AttackError) -> any Attack {
        try director.checkUnits(of: threatModel, attack: "paad")
        return self
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    ) -> AttackResult<S> {
        let directions = director.policies.in(S.self).outputs(observations).map { min(max($0, -1), 1) }
        return actor.perturb(observations, directions: directions, policy: policy, threatModel: threatModel)
    }
}
