import Linalg

/// `HalfCheetah-v5` (Gymnasium 1.x, default arguments): a planar two-legged runner that never
/// falls over — episodes end only at the time limit. Model: `envs/mujoco/half_cheetah.xml`
/// (Euler, timestep 0.01, total mass 14 kg).
///
/// | | |
/// |---|---|
/// | observation (17) | `qpos[1:]` (torso height z, torso angle, six joint angles), `qvel` |
/// | action (6) | back then front thigh, shin, foot torques in [−1, 1] (gears 120, 90, 60, 120, 60, 30) |
/// | step | 5 physics steps (dt = 0.05 s) |
/// | reward | `ẋ − 0.1·‖a‖²`, ẋ the torso's x velocity over the step |
/// | termination | never |
/// | reset | `qpos` = initial + U(−0.1, 0.1), `qvel` = initial + 0.1·N(0, 1) per entry |
public final class HalfCheetah: MuJoCoEnvironment {
    public let id = "HalfCheetah-v5"
    public let simulation: MuJoCoSimulation
    public let frameSkip = 5
    public var random = RandomStream(seed: 0)
    let forwardRewardWeight = 1.0
    let controlCostWeight = 0.1
    let resetNoiseScale = 0.1

    public init() throws(EnvironmentError) { simulation = try MuJoCoSimulation(modelFile: "half_cheetah.xml") }

    public var observationSpace: BoxSpace { unboundedBox(17) }

    public func drawInitialState() -> (positions: [Double], velocities: [Double]) {
        let positions = initialPositions(uniformNoise: resetNoiseScale)
        return (positions, initialVelocities(normalNoise: resetNoiseScale))
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        let xVelocity = simulateMeasuringForwardVelocity(action) { simulation.positions[0] }
        return (forwardRewardWeight * xVelocity - controlCost(action, weight: controlCostWeight), false)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        writePositionsAndVelocities(into: observation, skipping: 1)
    }

    public func renderSVG() -> String { MuJoCoPicture(simulation).svg }
}
