import Linalg

/// `Walker2d-v5` (Gymnasium 1.x, default arguments): a planar biped — torso and two legs of
/// thigh, leg and foot — that should walk forward. Model: `envs/mujoco/walker2d.xml` (RK4,
/// timestep 0.002).
///
/// | | |
/// |---|---|
/// | observation (17) | `qpos[1:]` (torso height z, torso angle, six joint angles), `qvel` clipped to ±10 |
/// | action (6) | right then left thigh, leg, foot torques in [−1, 1] (gear 100) |
/// | step | 4 physics steps (dt = 0.008 s) |
/// | reward | `ẋ + 1·healthy − 0.001·‖a‖²`, ẋ the torso's x velocity over the step |
/// | healthy | z in (0.8, 2), torso angle in (−1, 1) |
/// | termination | not healthy |
/// | reset | `qpos`, `qvel` = initial + U(−0.005, 0.005) per entry |
public final class Walker2d: MuJoCoEnvironment {
    public let id = "Walker2d-v5"
    public let simulation: MuJoCoSimulation
    public let frameSkip = 4
    public var random = RandomStream(seed: 0)
    let forwardRewardWeight = 1.0
    let controlCostWeight = 1e-3
    let healthyReward = 1.0
    let healthyZRange = (0.8, 2.0)
    let healthyAngleRange = (-1.0, 1.0)
    let resetNoiseScale = 5e-3

    public init() throws(EnvironmentError) { simulation = try MuJoCoSimulation(modelFile: "walker2d.xml") }

    public var observationSpace: BoxSpace { unboundedBox(17) }

    public func drawInitialState() -> (positions: [Double], velocities: [Double]) {
        (initialPositions(uniformNoise: resetNoiseScale), initialVelocities(uniformNoise: resetNoiseScale))
    }

    var isHealthy: Bool {
        let (z, angle) = (simulation.positions[1], simulation.positions[2])
        return healthyZRange.0 < z && z < healthyZRange.1 && healthyAngleRange.0 < angle && angle < healthyAngleRange.1
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
