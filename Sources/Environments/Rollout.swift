import Foundation
import Linalg

/// A scripted episode (`gauntlet env rollout`): reset an environment, optionally set its
/// internal state, apply a list of actions, and record what it returns — the way to check
/// Gauntlet's dynamics against any other implementation.
public struct Rollout: Sendable {
    public var environment: String
    /// Internal state set right after the reset (Gymnasium's `env.unwrapped.state` layout).
    public var state: [Double]?
    public var seed: UInt64
    public var actions: [Action]

    public init(environment: String, state: [Double]? = nil, seed: UInt64 = 0, actions: [Action]) {
        self.environment = environment
        self.state = state
        self.seed = seed
        self.actions = actions
    }

    /// Reads the request `{"env": ID, "state": [..]?, "seed": n?, "actions": [a0, a1, …]}`
    /// (a MuJoCo state may be given as `{"qpos": [..], "qvel": [..]}`);
    /// an action is an integer for discrete spaces and an array of numbers for continuous ones.
    public init(json data: Data) throws(EnvironmentError) {
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(data) } catch {
            throw EnvironmentError("input is not valid JSON: \(error.description)")
        }
        guard let request = parsed.object else { throw EnvironmentError("input must be one JSON object") }
        let known: Set = ["env", "state", "seed", "actions"]
        if let unknown = request.keys.sorted().first(where: { !known.contains($0) }) {
            throw EnvironmentError("unknown key '\(unknown)' (expected env, state, seed, actions)")
        }
        guard let environment = request["env"]?.string else { throw EnvironmentError("'env' must be a string environment id") }
        var state: [Double]? = nil
        if let raw = request["state"] {
            if let parts = raw.object {
                // A MuJoCo state: {"qpos": [...], "qvel": [...]}, which is qpos followed by qvel.
                guard Set(parts.keys) == ["qpos", "qvel"], let qpos = parts["qpos"]?.numbers, let qvel = parts["qvel"]?.numbers
                else {
                    throw EnvironmentError("'state' as an object must be {\"qpos\": [numbers], \"qvel\": [numbers]}")
                }
                state = qpos + qvel
            } else {
                guard let numbers = raw.numbers else {
                    throw EnvironmentError("'state' must be an array of numbers, or {\"qpos\", \"qvel\"} for MuJoCo")
                }
                state = numbers
            }
        }
        var seed: UInt64 = 0
        if let raw = request["seed"] {
            guard let value = raw.integer, value >= 0 else { throw EnvironmentError("'seed' must be a non-negative integer") }
            seed = UInt64(value)
        }
        guard let rawActions = request["actions"]?.array else { throw EnvironmentError("'actions' must be an array") }
        var actions: [Action] = []
        for (index, raw) in rawActions.enumerated() {
            if let value = raw.integer {
                actions.append(.discrete(value))
            } else if let numbers = raw.numbers {
                actions.append(.continuous(numbers.map(Float.init)))
            } else {
                throw EnvironmentError("action \(index): expected an integer (discrete) or an array of numbers (continuous)")
            }
        }
        self.init(environment: environment, state: state, seed: seed, actions: actions)
    }

    public struct Step: Codable, Equatable, Sendable {
        public var observation: [Float]
        public var reward: Double
        public var terminated: Bool
        public var truncated: Bool
    }

    public struct Result: Codable, Equatable, Sendable {
        public var initialObservation: [Float]
        public var steps: [Step]

        enum CodingKeys: String, CodingKey {
            case initialObservation = "initial_observation"
            case steps
        }
    }

    /// Runs the episode, stopping after the last action or when the episode ends. Every action
    /// is checked against the action space first.
    public func run() throws(EnvironmentError) -> Result {
        let env = try Registry.make(environment)
        for (index, action) in actions.enumerated() where !env.base.actionSpace.isValid(action) {
            throw EnvironmentError(
                "action \(index) (\(action)) is invalid for \(environment)'s \(env.base.actionSpace.description)")
        }
        var initial = env.reset(seed: seed)
        try env.checkFailure()
        if let state {
            try env.base.setState(state)
            initial = env.base.observation
        }
        var steps: [Step] = []
        for action in actions {
            let result = env.step(action)
            try env.checkFailure()
            steps.append(
                Step(
                    observation: result.observation, reward: result.reward, terminated: result.terminated,
                    truncated: result.truncated))
            if result.terminated || result.truncated { break }
        }
        return Result(initialObservation: initial, steps: steps)
    }
}
