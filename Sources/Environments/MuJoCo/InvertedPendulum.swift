import Linalg

/// `InvertedPendulum-v5` (Gymnasium 1.x, default arguments): a cart on a rail balancing a pole.
/// Model: `envs/mujoco/inverted_pendulum.xml` (RK4, timestep 0.02).
///
/// | | |
/// |---|---|
/// | observation (4) | `qpos` (cart position, pole angle), `qvel` |
/// | action (1) | force on the cart in [−3, 3] (gear 100) |
/// | step | 2 physics steps (dt = 0.04 s) |
/// | reward | 1 while the pole is up, 0 on the terminating step |
/// | termination | an observation not finite, or |pole angle| > 0.2 |
/// | reset | `qpos`, `qvel` = initial + U(−0.01, 0.01) per entry |
public final class InvertedPendulum: MuJoCoEnvironment {
    public let id = "InvertedPendulum-v5"
    public let simulation: MuJoCoSimulation
    public let frameSkip = 2
    public var random = RandomStream(seed: 0)
    let resetNoiseScale = 0.01

    public init() throws(EnvironmentError) { simulation = try MuJoCoSimulation(modelFile: "inverted_pendulum.xml") }

    public var observationSpace: BoxSpace { unboundedBox(4) }

    public func drawInitialState() -> (positions: [Double], velocities: [Double]) {
        (initialPositions(uniformNoise: resetNoiseScale), initialVelocities(uniformNoise: resetNoiseScale))
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        simulate(action)
        let terminated = !stateIsFinite || abs(simulation.positions[1]) > 0.2
        return (terminated ? 0 : 1, terminated)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        writePositionsAndVelocities(into: observation, skipping: 0)
    }

    public func renderSVG() -> String { MuJoCoPicture(simulation).svg }
}
