import Linalg

/// `Ant-v5` (Gymnasium 1.x, default arguments): a four-legged robot on a free joint that should
/// walk in +x. Model: `envs/mujoco/ant.xml` (RK4, timestep 0.01).
///
/// | | |
/// |---|---|
/// | observation (105) | `qpos[2:]` (torso z, orientation quaternion, 8 joint angles), `qvel` (14), then the external contact forces `cfrc_ext` of bodies 1–13 (6 each) clipped to [−1, 1] |
/// | action (8) | hip and ankle torques of the four legs in [−1, 1] (gear 150) |
/// | step | 5 physics steps (dt = 0.05 s) |
/// | reward | `ẋ + 1·healthy − 0.5·‖a‖² − 5·10⁻⁴·‖clip(cfrc_ext, −1, 1)‖²`, ẋ the torso's x velocity |
/// | healthy | the state finite and torso z in [0.2, 1] |
/// | termination | not healthy |
/// | reset | `qpos` = initial + U(−0.1, 0.1), `qvel` = initial + 0.1·N(0, 1) per entry |
public final class Ant: MuJoCoEnvironment {
    public let id = "Ant-v5"
    public let simulation: MuJoCoSimulation
    public let frameSkip = 5
    public var random = RandomStream(seed: 0)
    let forwardRewardWeight = 1.0
    let controlCostWeight = 0.5
    let contactCostWeight = 5e-4
    let healthyReward = 1.0
    let healthyZRange = (0.2, 1.0)
    let contactForceRange = (-1.0, 1.0)
    let resetNoiseScale = 0.1
    /// The body whose motion is rewarded (`main_body`, the torso).
    let mainBody = 1

    public init() throws(EnvironmentError) { simulation = try MuJoCoSimulation(modelFile: "ant.xml") }

    public var observationSpace: BoxSpace { unboundedBox(simulation.nq - 2 + simulation.nv + 6 * (simulation.nbody - 1)) }

    public func drawInitialState() -> (positions: [Double], velocities: [Double]) {
        let positions = initialPositions(uniformNoise: resetNoiseScale)
        return (positions, initialVelocities(normalNoise: resetNoiseScale))
    }

    func clippedContactForce(_ value: Double) -> Double { min(max(value, contactForceRange.0), contactForceRange.1) }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        let xVelocity = simulateMeasuringForwardVelocity(action) { simulation.bodyPosition(mainBody).x }
        let z = simulation.positions[2]
        let healthy = stateIsFinite && healthyZRange.0 <= z && z <= healthyZRange.1
        let contactCost =
            contactCostWeight * simulation.externalForces.reduce(0) { $0 + clippedContactForce($1) * clippedContactForce($1) }
        let reward =
            xVelocity * forwardRewardWeight + (healthy ? healthyReward : 0)
            - (controlCost(action, weight: controlCostWeight) + contactCost)
        return (reward, !healthy)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        writePositionsAndVelocities(into: observation, skipping: 2)
        let offset = simulation.nq - 2 + simulation.nv
        for (k, value) in simulation.externalForces.dropFirst(6).enumerated() {
            observation[offset + k] = Float(clippedContactForce(value))
        }
    }

    public func renderSVG() -> String { MuJoCoPicture(simulation, view: .above).svg }
}
