import Agents
import Environments
import Foundation
import Linalg
import NeuralNet
import Verification

/// The optimal observation adversary of a gridworld policy, by dynamic programming on the
/// state-adversarial MDP (Zhang et al. 2020, "Robust deep reinforcement learning against
/// adversarial perturbations on state observations", Theorem 5).
///
/// In each state the adversary chooses which action the policy takes, among the actions some
/// perturbation inside the threat model produces. That set is bracketed: an under-approximation
/// collects the actions a perturbation was found for (the clean action, targeted PGD's, and the
/// witnesses of complete verification), an over-approximation the actions interval bound
/// propagation cannot rule out and complete verification did not prove impossible.
/// Finite-horizon value iteration (the map's step limit, undiscounted, the adversary minimising)
/// over each gives an upper and a lower bound on the return under the optimal attack. With
/// complete verification (`verifier`) every question is answered unless the solver's time limit
/// is hit, so the two sets — and the bounds — coincide, and the value is exact.
public struct OptimalAdversary<Scalar: BLASScalar> {
    public var policy: Policy<Scalar>
    public var world: GridWorld
    public var threatModel: ThreatModel
    public var horizon: Int
    /// Decides the actions PGD does not reach and interval bounds do not exclude; nil: the
    /// bracket only.
    public var verifier: CompleteVerifier?

    /// Refuses a policy whose defenses have no exact interval form (its bounds would be the bare
    /// network's) and, with a verifier, a defended policy, an L2 threat model or a network that
    /// is not piecewise linear.
    public init(
        policy: Policy<Scalar>, world: GridWorld, threatModel: ThreatModel, horizon: Int, verifier: CompleteVerifier? = nil
    ) throws(PolicyFileError) {
        let probe = Matrix<Scalar>(rows: 1, columns: policy.observationDimension)
        if case .failure(let error) = policy.networkInputBox(lower: probe, upper: probe) {
            throw PolicyFileError("optimal adversary: \(error.description)")
        }
        if verifier != nil {
            guard threatModel.norm == .linf else {
                throw PolicyFileError(
                    "optimal adversary: complete verification supports L∞ threat models (an L2 ball is not linear)")
            }
            do { try CompleteVerification.check(policy) } catch {
                throw PolicyFileError("optimal adversary: \(error.description)")
            }
        }
        self.policy = policy
        self.world = world
        self.threatModel = threatModel
        self.horizon = horizon
        self.verifier = verifier
    }

    /// The actions an adversary can make the policy take in one state.
    public struct ActionSets: Equatable, Sendable {
        /// Shown possible: each with an observation of the threat model that makes the policy
        /// take it (`witnesses`).
        public var reached: Set<Int>
        /// Not excluded: by interval bounds, nor by complete verification.
        public var possible: Set<Int>
        /// An observation forcing each reached action (the clean one for the clean action).
        public var witnesses: [Int: [Double]]
        /// Questions complete verification answered (witness or proof) and left undecided.
        public var verified = 0
        public var undecided = 0
    }

    public struct Bounds: Sendable, Encodable {
        /// The policy's return without attack.
        public var cleanReturn: Double
        /// Return under the optimal attack is at least this (over-approximated action sets).
        public var lowerBound: Double
        /// … and at most this (the actions a perturbation was found for).
        public var upperBound: Double
        /// States (non-terminal) whose two action sets differ.
        public var undecidedStates: Int
        /// Questions complete verification answered, and those it left undecided (time limit or tie).
        public var verifiedQueries: Int
        public var undecidedQueries: Int
    }

    /// The observation the policy sees in tabular state `s`.
    func observation(_ s: Int) -> [Float] {
        world.setTabularState(s)
        return world.observation
    }

    public func actionSets(_ s: Int) -> ActionSets {
        let clean = Matrix(row: observation(s).map { Scalar($0) })
        let actionCount = world.model.actionCount
        let cleanAction = argmax(policy.outputs(clean).row(0))
        var sets = ActionSets(reached: [cleanAction], possible: [], witnesses: [cleanAction: clean.row(0).map { Double($0) }])
        if threatModel.epsilon > 0 {
            for target in 0..<actionCount where target != cleanAction {
                let attack = TargetedAttack(target: .action(target), steps: 50, alphaRatio: 0.1, restarts: 1)
                let perturbed = attack.perturb(
                    clean, policy: policy, threatModel: threatModel, random: RandomStream(seed: UInt64(s * 31 + target))
                ).perturbed
                if argmax(policy.outputs(perturbed).row(0)) == target {
                    sets.reached.insert(target)
                    sets.witnesses[target] = perturbed.row(0).map { Double($0) }
                }
            }
        }
        // Interval bounds on the outputs over the box ∩ observation bounds (L∞; an L2 ball lies
        // inside it), through the defenses (init checked they have interval forms).
        let (lower, upper) = threatModel.box(around: clean)
        guard case .success(let box) = policy.networkInputBox(lower: lower, upper: upper) else {
            preconditionFailure("checked in init")
        }
        let bounds = policy.network.intervalBounds(box)
        let bestLower = bounds.lower.row(0).max()!
        sets.possible = Set((0..<actionCount).filter { bounds.upper[0, $0] >= bestLower }).union(sets.reached)
        let open = sets.possible.subtracting(sets.reached).sorted()
        guard let verifier, !open.isEmpty else { return sets }
        do {
            let verification = try CompleteVerification(verifier: verifier, policy: policy, lower: lower, upper: upper)
            for target in open {
                switch try verification.canForce(target) {
                case .witness(let observation):
                    sets.reached.insert(target)
                    sets.witnesses[target] = observation
                    sets.verified += 1
                case .impossible:
                    sets.possible.remove(target)
                    sets.verified += 1
                case .undecided:
                    sets.undecided += 1
                }
            }
        } catch {
            preconditionFailure("checked in init: \(error)")
        }
        return sets
    }

    /// Finite-horizon values when, in each state, the adversary picks the worst action of
    /// `sets`: `values[k][s]` with `k` steps to go (`values[0]` all zero).
    func adversarialValues(_ sets: [Set<Int>]) -> [[Double]] {
        let model = world.model
        var values = [[Double](repeating: 0, count: model.stateCount)]
        for _ in 0..<horizon {
            let previous = values[values.count - 1]
            var next = previous
            for s in 0..<model.stateCount where !model.isTerminal[s] {
                next[s] = sets[s].map { model.actionValue(s, $0, values: previous, discount: 1) }.min()!
            }
            values.append(next)
        }
        return values
    }

    /// The bounds, and the adversary that attains the upper one.
    public func solve() -> (bounds: Bounds, plan: OptimalAttack.Plan) {
        let model = world.model
        var sets: [ActionSets] = []
        var clean: [Int] = []
        for s in 0..<model.stateCount {
            guard !model.isTerminal[s] else {
                sets.append(ActionSets(reached: [0], possible: [0], witnesses: [:]))
                clean.append(0)
                continue
            }
            sets.append(actionSets(s))
            clean.append(argmax(policy.outputs(Matrix(row: observation(s).map { Scalar($0) })).row(0)))
        }
        world.reset(seed: 0)
        let start = world.tabularState
        let reachedValues = adversarialValues(sets.map(\.reached))
        let bounds = Bounds(
            cleanReturn: model.policyValues(clean, discount: 1, horizon: horizon)[start],
            lowerBound: adversarialValues(sets.map(\.possible))[horizon][start],
            upperBound: reachedValues[horizon][start],
            undecidedStates: (0..<model.stateCount).filter { !model.isTerminal[$0] && sets[$0].reached != sets[$0].possible }
                .count,
            verifiedQueries: sets.map(\.verified).reduce(0, +), undecidedQueries: sets.map(\.undecided).reduce(0, +))
        // With k steps to go in state s, the reached action of least value (the first on ties).
        var choices: [[Int]] = [[]]
        for k in 1...max(horizon, 1) {
            choices.append(
                (0..<model.stateCount).map { s in
                    guard !model.isTerminal[s] else { return 0 }
                    return sets[s].reached.sorted().min {
                        model.actionValue(s, $0, values: reachedValues[k - 1], discount: 1)
                            < model.actionValue(s, $1, values: reachedValues[k - 1], discount: 1)
                    }!
                })
        }
        var states: [[Float]: Int] = [:]
        for s in 0..<model.stateCount where !model.isTerminal[s] { states[observation(s)] = s }
        let plan = OptimalAttack.Plan(
            states: states, witnesses: sets.map(\.witnesses), choices: choices, horizon: horizon,
            aliased: states.count < (0..<model.stateCount).filter { !model.isTerminal[$0] }.count)
        return (bounds, plan)
    }

    public func bounds() -> Bounds { solve().bounds }
}

/// The optimal adversary of `OptimalAdversary` as an attack, for gridworld policies: prepared for
/// its victim, it solves the dynamic program (with complete verification) and then, in each
/// state and at each step, shows the policy the observation that makes it take the action the
/// dynamic program chose. The value it attains is the upper bound of the bracket — the exact
/// optimal-attack return when every question was decided. Its preparation names the bracket.
public struct OptimalAttack: Attack {
    /// Seconds complete verification may spend on one question.
    public var timeLimit: Double
    /// The solved adversary, once prepared.
    public var plan: Plan?
    /// What the preparation found.
    public var preparation: AttackPreparation?

    /// What the adversary does, state by state and step by step.
    public struct Plan: Sendable, Equatable {
        /// The tabular state of each (non-terminal) state's clean observation.
        public var states: [[Float]: Int]
        /// Per state, an observation forcing each reachable action.
        public var witnesses: [[Int: [Double]]]
        /// `choices[k][s]`: the action forced in state `s` with `k` steps to go.
        public var choices: [[Int]]
        public var horizon: Int
        /// Whether two states share an observation (the adversary then cannot tell them apart).
        public var aliased: Bool

        public init(states: [[Float]: Int], witnesses: [[Int: [Double]]], choices: [[Int]], horizon: Int, aliased: Bool) {
            self.states = states
            self.witnesses = witnesses
            self.choices = choices
            self.horizon = horizon
            self.aliased = aliased
        }
    }

    public init(timeLimit: Double = CompleteVerifier.defaultTimeLimit) { self.timeLimit = timeLimit }

    static let parameters = [
        AttackParameter(
            "time_limit", .number(0.001...86_400), default: String(format: "%g", CompleteVerifier.defaultTimeLimit),
            "seconds complete verification may spend on one question")
    ]

    public static let description = AttackDescription(
        name: "optimal",
        summary:
            "the exact optimal adversary of a gridworld policy: dynamic programming over the actions complete verification shows a perturbation can force",
        family: .whiteBox, parameters: parameters, cheapSettings: ["time_limit": "1"], environmentPrefix: "grid:"
    ) { spec, _ throws(AttackError) in
        try spec.requireKnown(parameters)
        return OptimalAttack(timeLimit: try spec.double(parameters[0]))
    }

    public var spec: String { formatSpec("optimal", ["time_limit": timeLimit]) }

    /// A plan as a replay keeps it: the states in index order (so the same plan is the same
    /// text), and what preparation found.
    struct Saved: Codable {
        struct State: Codable {
            var observation: [Float]
            var index: Int
        }
        var states: [State]
        var witnesses: [[Int: [Double]]]
        var choices: [[Int]]
        var horizon: Int
        var aliased: Bool
        var preparation: AttackPreparation?
    }

    /// The plan and what preparation found, as JSON.
    public var savedPreparation: String? {
        guard let plan else { return nil }
        let saved = Saved(
            states: plan.states.map { Saved.State(observation: $0.key, index: $0.value) }.sorted { $0.index < $1.index },
            witnesses: plan.witnesses, choices: plan.choices, horizon: plan.horizon, aliased: plan.aliased,
            preparation: preparation)
        guard let data = try? JSONEncoder.gauntlet().encode(saved) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    public func restoringPreparation(_ saved: String) throws(AttackError) -> any Attack {
        guard let restored = try? JSONDecoder.gauntlet().decode(Saved.self, from: Data(saved.utf8)) else {
            throw AttackError("optimal: the saved plan cannot be read")
        }
        var attack = self
        attack.plan = Plan(
            states: Dictionary(restored.states.map { ($0.observation, $0.index) }) { first, _ in first },
            witnesses: restored.witnesses, choices: restored.choices, horizon: restored.horizon, aliased: restored.aliased)
        attack.preparation = restored.preparation
        return attack
    }

    public func validate<S: BLASScalar>(for policy: Policy<S>) throws(AttackError) {
        guard policy.head.isDiscrete else { throw AttackError("optimal: needs a policy with discrete actions") }
    }

    public func prepared<S: BLASScalar>(
        for policy: Policy<S>, environment: String, threatModel: ThreatModel, progress: ((String) -> Void)?
    ) throws(AttackError) -> any Attack {
        if plan != nil { return self }  // solved already (for this victim: the caller's word)
        guard environment.hasPrefix("grid:") else {
            throw AttackError("optimal: needs a gridworld (grid:NAME), got \(environment)")
        }
        guard threatModel.norm == .linf else {
            throw AttackError("optimal: complete verification supports L∞ threat models (an L2 ball is not linear)")
        }
        let world: GridWorld
        do { world = try Registry.gridWorld(environment) } catch { throw AttackError("optimal: \(error.description)") }
        progress?("optimal: solving the state-adversarial MDP of \(environment) (\(world.model.stateCount) states)")
        let adversary: OptimalAdversary<S>
        do {
            adversary = try OptimalAdversary(
                policy: policy, world: world, threatModel: threatModel, horizon: world.map.stepLimit,
                verifier: CompleteVerifier(timeLimit: timeLimit))
        } catch { throw AttackError(error.description) }
        let (bounds, plan) = adversary.solve()
        guard !plan.aliased else { throw AttackError("optimal: two states of \(environment) give the same observation") }
        var prepared = self
        prepared.plan = plan
        let value =
            bounds.lowerBound == bounds.upperBound
            ? String(format: "exact optimal-attack return %.4f (%d undecided states)", bounds.upperBound, bounds.undecidedStates)
            : String(
                format: "return in [%.4f, %.4f] (%d undecided states): plays the adversary of the upper bound",
                bounds.lowerBound, bounds.upperBound, bounds.undecidedStates)
        prepared.preparation = AttackPreparation(environmentSteps: 0, choice: value)
        return prepared
    }

    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, policy: Policy<S>, threatModel: ThreatModel, random: RandomStream
    )
        -> AttackResult<S>
    {
        perturb(observations, cleanOutputs: nil, steps: nil, policy: policy, threatModel: threatModel, random: random)
    }

    /// Each row's state and step pick the forced action's observation; a row of no state of the
    /// gridworld, or beyond its step limit, is left as it is.
    public func perturb<S: BLASScalar>(
        _ observations: Matrix<S>, cleanOutputs: Matrix<S>?, steps: [Int]?, policy: Policy<S>, threatModel: ThreatModel,
        random: RandomStream
    ) -> AttackResult<S> {
        guard let plan else { preconditionFailure("optimal: prepare the attack for its victim first (EpisodeRunner does)") }
        var perturbed = observations
        for r in 0..<observations.rows {
            guard threatModel.epsilon > 0, let s = plan.states[observations.row(r).map { Float($0) }] else { continue }
            let toGo = plan.horizon - (steps?[r] ?? 0)
            guard toGo >= 1, let witness = plan.witnesses[s][plan.choices[toGo][s]] else { continue }
            perturbed.setRow(r, to: witness.map { S($0) })
        }
        return AttackResult(perturbed: perturbed, queries: 0)
    }
}
