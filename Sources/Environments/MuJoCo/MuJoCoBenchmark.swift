import Foundation
import Linalg

/// What a MuJoCo environment costs beyond its physics: one copy steps through random actions
/// (drawn in advance; resets when an episode ends, as `VectorEnvironment` auto-resets), and a
/// second copy's bare simulation replays exactly the same physics — the same controls with
/// `frameSkip` physics steps each, and at every reset the state the environment drew — the
/// `mj_step` loop the environment wraps. The two alternate in chunks of `chunk` steps, so drifts
/// in the machine's speed (a job on the sibling hyperthread, frequency changes) reach both alike;
/// each repeat sums its chunks. The ratio of the two times is the wrapper's overhead:
/// observations, rewards, health checks, time limits and reset noise. `replayMatches` says the
/// replay ended in the environment's final state (it times the same physics).
public struct MuJoCoBenchmark: Sendable {
    public var environment: String
    public var steps: Int
    public var repeats: Int
    /// Environment steps per chunk of the alternation.
    public var chunk: Int

    public init(environment: String, steps: Int = 50_000, repeats: Int = 5, chunk: Int = 250) {
        self.environment = environment
        self.steps = steps
        self.repeats = repeats
        self.chunk = chunk
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
        /// Whether the bare replay ended in the environment's final state.
        public var replayMatches: Bool
    }

    public func run() throws(EnvironmentError) -> Result {
        let env = try Registry.make(environment)
        let replayCopy = try Registry.make(environment)
        guard let mujoco = env.base as? any MuJoCoEnvironment, let replay = replayCopy.base as? any MuJoCoEnvironment else {
            throw EnvironmentError("\(environment) is not a MuJoCo environment")
        }
        let random = RandomStream(seed: 0)
        let actions = (0..<steps).map { _ in env.base.actionSpace.sample(random) }
        let controls = actions.map { action -> [Float] in
            guard case .continuous(let values) = action else { return [] }
            return values
        }
        let (simulation, bare) = (mujoco.simulation, replay.simulation)
        var resets = 0
        var environmentSamples: [Double] = []
        var physicsSamples: [Double] = []
        var replayMatches = true
        for _ in 0..<repeats {
            env.reset(seed: 0)
            bare.setState(simulation.state)
            // The state each episode starts from, at the step whose end reset it (allocated
            // outside the timed loops, so neither side pays a lookup the other does not).
            var starts = [[Double]?](repeating: nil, count: steps)
            var (environmentTime, physicsTime): (UInt64, UInt64) = (0, 0)
            for first in stride(from: 0, to: steps, by: chunk) {
                let range = first..<min(first + chunk, steps)
                var start = DispatchTime.now().uptimeNanoseconds
                for t in range {
                    let result = env.step(actions[t])
                    if result.terminated || result.truncated {
                        env.reset()
                        starts[t] = simulation.state
                    }
                }
                environmentTime += DispatchTime.now().uptimeNanoseconds - start
                start = DispatchTime.now().uptimeNanoseconds
                for t in range {
                    bare.step(controls: controls[t], frames: mujoco.frameSkip)
                    if let state = starts[t] { bare.setState(state) }
                }
                physicsTime += DispatchTime.now().uptimeNanoseconds - start
            }
            environmentSamples.append(Double(environmentTime) / 1e9)
            physicsSamples.append(Double(physicsTime) / 1e9)
            resets = starts.count { $0 != nil }
            replayMatches = replayMatches && bare.state == simulation.state
        }
        let environmentTiming = TimingSummary(samples: environmentSamples)
        let physicsTiming = TimingSummary(samples: physicsSamples)
        return Result(
            environment: environment, steps: steps, resets: resets, environmentSeconds: environmentTiming,
            physicsSeconds: physicsTiming, environmentStepsPerSecond: Double(steps) / environmentTiming.minimum,
            physicsStepsPerSecond: Double(steps) / physicsTiming.minimum,
            overhead: environmentTiming.minimum / physicsTiming.minimum - 1, replayMatches: replayMatches)
    }
}
