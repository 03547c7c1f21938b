import Agents
import Attacks
import Environments
import Linalg
import NeuralNet

/// The optimal observation adversary of a gridworld policy, bounded exactly by dynamic
/// programming on the state-adversarial MDP (Zhang et al. 2020, "Robust deep reinforcement
/// learning against adversarial perturbations on state observations", Theorem 5).
///
/// In each state the adversary chooses which action the policy takes, among the actions some
/// perturbation inside the threat model produces. That set is bracketed: an under-approximation
/// collects the actions targeted PGD reaches (the clean action included), an over-approximation
/// the actions interval bound propagation cannot rule out. Finite-horizon value iteration (the
/// map's step limit, undiscounted, the adversary minimising) over each gives an upper and a
/// lower bound on the return under the optimal attack; they coincide when the two sets do.
public struct OptimalAdversary<Scalar: BLASScalar> {
    public var policy: Policy<Scalar>
    public var world: GridWorld
    public var threatModel: ThreatModel
    public var horizon: Int

    /// Refuses a policy whose defenses have no exact interval form (its bounds would be the bare
    /// network's).
    public init(policy: Policy<Scalar>, world: GridWorld, threatModel: ThreatModel, horizon: Int) throws(PolicyFileError) {
        let probe = Matrix<Scalar>(rows: 1, columns: policy.observationDimension)
        if case .failure(let error) = policy.networkInputBox(lower: probe, upper: probe) {
            throw PolicyFileError("optimal adversary: \(error.description)")
        }
        self.policy = policy
        self.world = world
        self.threatModel = threatModel
        self.horizon = horizon
    }

    /// The actions an adversary can make the policy take in one state.
    public struct ActionSets: Equatable, Sendable {
        /// Reached by targeted PGD (or the clean action): certainly possible.
        public var reached: Set<Int>
        /// Not excluded by interval bounds: possibly possible.
        public var possible: Set<Int>
    }

    public struct Bounds: Sendable, Encodable {
        /// The policy's return without attack.
        public var cleanReturn: Double
        /// Return under the optimal attack is at least this (over-approximated action sets).
        public var lowerBound: Double
        /// … and at most this (the actions targeted PGD reaches).
        public var upperBound: Double
        /// States (non-terminal) whose two action sets differ.
        public var undecidedStates: Int
    }

    /// The observation the policy sees in tabular state `s`.
    func observation(_ s: Int) -> Matrix<Scalar> {
        world.setTabularState(s)
        return Matrix(row: world.observation.map { Scalar($0) })
    }

    public func actionSets(_ s: Int) -> ActionSets {
        let clean = observation(s)
        let actionCount = world.model.actionCount
        let cleanAction = argmax(policy.outputs(clean).row(0))
        var reached: Set<Int> = [cleanAction]
        if threatModel.epsilon > 0 {
            for target in 0..<actionCount where target != cleanAction {
                let attack = TargetedAttack(target: .action(target), steps: 50, alphaRatio: 0.1, restarts: 1)
                let perturbed = attack.perturb(
                    clean, policy: policy, threatModel: threatModel, random: RandomStream(seed: UInt64(s * 31 + target)))
                if argmax(policy.outputs(perturbed.perturbed).row(0)) == target { reached.insert(target) }
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
        let possible = Set((0..<actionCount).filter { bounds.upper[0, $0] >= bestLower }).union(reached)
        return ActionSets(reached: reached, possible: possible)
    }

    /// Finite-horizon values when, in each state, the adversary picks the worst action of `sets`.
    func adversarialValues(_ sets: [Set<Int>]) -> [Double] {
        let model = world.model
        var values = [Double](repeating: 0, count: model.stateCount)
        for _ in 0..<horizon {
            let previous = values
            for s in 0..<model.stateCount where !model.isTerminal[s] {
                values[s] = sets[s].map { model.actionValue(s, $0, values: previous, discount: 1) }.min()!
            }
        }
        return values
    }

    public func bounds() -> Bounds {
        let model = world.model
        var reached: [Set<Int>] = []
        var possible: [Set<Int>] = []
        var clean: [Int] = []
        for s in 0..<model.stateCount {
            guard !model.isTerminal[s] else {
                (reached, possible, clean) = (reached + [[0]], possible + [[0]], clean + [0])
                continue
            }
            let sets = actionSets(s)
            reached.append(sets.reached)
            possible.append(sets.possible)
            clean.append(argmax(policy.outputs(observation(s)).row(0)))
        }
        world.reset(seed: 0)
        let start = world.tabularState
        return Bounds(
            cleanReturn: model.policyValues(clean, discount: 1, horizon: horizon)[start],
            lowerBound: adversarialValues(possible)[start],
            upperBound: adversarialValues(reached)[start],
            undecidedStates: (0..<model.stateCount).filter { !model.isTerminal[$0] && reached[$0] != possible[$0] }.count)
    }
}
