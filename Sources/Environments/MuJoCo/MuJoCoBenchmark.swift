import Foundation
import Linalg

/// What a MuJoCo environment costs beyond its physics: one copy steps through random actions
/// (drawn in advance; resets when an episode ends, as `VectorEnvironment` auto-resets), then
/// the bare simulation replays the same controls with `frameSkip` physics steps each and the
/// same resets (`setState` to the initial state) — the `mj_step` loop the environment wraps.
/// The ratio of the two times is the wrapper's overhead: observations, rewards, health checks,
/// time limits and reset noise.
public struct MuJoCoBenchmark: Sendable {
    public var environment: String
    public var steps: Int
    public var repeats: Int

    public init(environment: String, steps: Int = 50_000, repeats: Int = 5) {
        self.environment = environment
        self.steps = steps
        self.repeats = repeats
    }

    public struct Result: Codable, Sendable {
        public var environment: String
        public var steps: Int
        public var resets: Int
        public var environmentSeconds: TimingSummary
        public var physicsSeconds: TimingSummary
        /// Environment steps per second (fastest repeat), and the bare physics' at the same steps.
        public var environmentStepsPerSecond: Double
        public var physicsStepsPerSecond: Double
        /// `environment time / physics time − 1`, from the fastest repeats.
        public var overhead: Double
    }

    public func run() throws(EnvironmentError) -> Result {
        let env = try Registry.make(environment)
        guard let mujoco = env.base as? any MuJoCoEnvironment else {
            throw EnvironmentError("\(environment) is not a MuJoCo environment")
        }
        let random = RandomStream(seed: 0)
        let actions = (0..<steps).map { _ in env.base.actionSpace.sample(random) }
        let controls = actions.map { action -> [Float] in
            guard case .continuous(let values) = action else { return [] }
            return values
        }
        var resets: [Bool] = []
        var environmentSamples: [Double] = []
        var physicsSamples: [Double] = []
        let simulation = mujoco.simulation
        let initial = simulation.initialPositions + simulation.initialVelocities
        for _ in 0..<repeats {
            env.reset(seed: 0)
            resets = []
            resets.reserveCapacity(steps)
            var start = DispatchTime.now().uptimeNanoseconds
            for action in actions {
                let result = env.step(action)
                let done = result.terminated || result.truncated
                if done { env.reset() }
                resets.append(done)
            }
            environmentSamples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            simulation.setState(initial)
            start = DispatchTime.now().uptimeNanoseconds
            for (t, control) in controls.enumerated() {
                simulation.step(controls: control, frames: mujoco.frameSkip)
                if resets[t] { simulation.setState(initial) }
            }
            physicsSamples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let environmentTiming = TimingSummary(samples: environmentSamples)
        let physicsTiming = TimingSummary(samples: physicsSamples)
        return Result(
            environment: environment, steps: steps, resets: resets.filter { $0 }.count, environmentSeconds: environmentTiming,
            physicsSeconds: physicsTiming, environmentStepsPerSecond: Double(steps) / environmentTiming.minimum,
            physicsStepsPerSecond: Double(steps) / physicsTiming.minimum,
            overhead: environmentTiming.minimum / physicsTiming.minimum - 1)
    }
}
