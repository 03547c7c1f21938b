/// The complete model of a finite MDP: for each state and action, the distribution of
/// (next state, reward, terminated). Dynamic programming solves it exactly.
public struct TabularModel: Equatable, Sendable {
    public struct Outcome: Equatable, Sendable {
        public var probability: Double
        public var nextState: Int
        public var reward: Double
        public var terminated: Bool
    }

    public let stateCount: Int
    public let actionCount: Int
    /// `outcomes[s][a]`: what taking action `a` in state `s` leads to (probabilities sum to 1).
    /// Terminal states have no outcomes.
    public let outcomes: [[[Outcome]]]
    /// Whether each state is terminal (absorbing, value 0).
    public let isTerminal: [Bool]

    public init(stateCount: Int, actionCount: Int, outcomes: [[[Outcome]]], isTerminal: [Bool]) {
        self.stateCount = stateCount
        self.actionCount = actionCount
        self.outcomes = outcomes
        self.isTerminal = isTerminal
    }

    /// `Q(s, a) = Σ p (r + γ V(s′) [not terminated])`.
    public func actionValue(_ state: Int, _ action: Int, values: [Double], discount: Double) -> Double {
        outcomes[state][action].reduce(0) { total, o in
            total + o.probability * (o.reward + (o.terminated ? 0 : discount * values[o.nextState]))
        }
    }

    /// Optimal state values by value iteration, to `tolerance` in the max norm. With γ = 1 the
    /// values are those of the episodic problem (terminal states must be reachable).
    /// `horizon` bounds the iterations (the episode step limit gives exact finite-horizon values).
    public func optimalValues(discount: Double, tolerance: Double = 1e-12, horizon: Int = 100_000) -> [Double] {
        var values = [Double](repeating: 0, count: stateCount)
        for _ in 0..<horizon {
            var change = 0.0
            let previous = values
            for s in 0..<stateCount where !isTerminal[s] {
                let best = (0..<actionCount).map { actionValue(s, $0, values: previous, discount: discount) }.max()!
                change = max(change, abs(best - values[s]))
                values[s] = best
            }
            if change < tolerance { break }
        }
        return values
    }

    /// Values of a fixed deterministic policy (`policy[s]` is the action), by iterating its
    /// Bellman equation for `horizon` steps.
    public func policyValues(_ policy: [Int], discount: Double, tolerance: Double = 1e-12, horizon: Int = 100_000) -> [Double] {
        precondition(policy.count == stateCount)
        var values = [Double](repeating: 0, count: stateCount)
        for _ in 0..<horizon {
            let previous = values
            var change = 0.0
            for s in 0..<stateCount where !isTerminal[s] {
                values[s] = actionValue(s, policy[s], values: previous, discount: discount)
                change = max(change, abs(values[s] - previous[s]))
            }
            if change < tolerance { break }
        }
        return values
    }
}
