import Linalg

/// `Hopper-v5` (Gymnasium 1.x, default arguments): a planar one-legged robot — torso, thigh,
/// leg, foot — that should hop forward. Model: `envs/mujoco/hopper.xml` (RK4, timestep 0.002).
///
/// | | |
/// |---|---|
/// | observation (11) | `qpos[1:]` (torso height z, torso angle, thigh, leg, foot angles), `qvel` clipped to ±10 |
/// | action (3) | thigh, leg and foot torques in [−1, 1] (gear 200) |
/// | step | 4 physics steps (dt = 0.008 s) |
/// | reward | `ẋ + 1·healthy − 0.001·‖a‖²`, ẋ the torso's x velocity over the step |
/// | healthy | every `state[2:]` (angles and velocities) in (−100, 100), z > 0.7, torso angle in (−0.2, 0.2) |
/// | termination | not healthy |
/// | reset | `qpos`, `qvel` = initial + U(−0.005, 0.005) per entry |
/// | state | `qpos` (rootx, rootz, rooty, thigh, leg, foot) then `qvel` |
public final class Hopper: MuJoCoEnvironment {
    public let id = "Hopper-v5"
    public let simulation: MuJoCoSimulation
    public let frameSkip = 4
    public var random = RandomStream(seed: 0)
    let forwardRewardWeight = 1.0
    let controlCostWeight = 1e-3
    let healthyReward = 1.0
    let healthyStateRange = (-100.0, 100.0)
    let healthyZRange = (0.7, Double.infinity)
    let healthyAngleRange = (-0.2, 0.2)
    let resetNoiseScale = 5e-3

    public init() throws(EnvironmentError) { simulation = try MuJoCoSimulation(modelFile: "hopper.xml") }

    public var observationSpace: BoxSpace { unboundedBox(11) }

    public func drawInitialState() -> (positions: [Double], velocities: [Double]) {
        (initialPositions(uniformNoise: resetNoiseScale), initialVelocities(uniformNoise: resetNoiseScale))
    }

    var isHealthy: Bool {
        let q = simulation.positions
        let inRange = { (value: Double) in self.healthyStateRange.0 < value && value < self.healthyStateRange.1 }
        return q.dropFirst(2).allSatisfy(inRange) && simulation.velocities.allSatisfy(inRange)
            && healthyZRange.0 < q[1] && q[1] < healthyZRange.1
            && healthyAngleRange.0 < q[2] && q[2] < healthyAngleRange.1
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        let xVelocity = simulateMeasuringForwardVelocity(action) { simulation.positions[0] }
        let healthy = isHealthy
        let reward =
            forwardRewardWeight * xVelocity + (healthy ? healthyReward : 0) - controlCost(action, weight: controlCostWeight)
        return (reward, !healthy)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        writePositionsAndVelocities(into: observation, skipping: 1, velocityClip: 10)
    }

    public func renderSVG() -> String { MuJoCoPicture(simulation).svg }
}
