import Linalg

/// `Swimmer-v5` (Gymnasium 1.x, default arguments): three links in a viscous fluid that should
/// swim in +x by undulating. Model: `envs/mujoco/swimmer.xml` (RK4, timestep 0.01).
///
/// | | |
/// |---|---|
/// | observation (8) | `qpos[2:]` (heading, two joint angles), `qvel` |
/// | action (2) | torques of the two joints in [−1, 1] (gear 150) |
/// | step | 4 physics steps (dt = 0.04 s) |
/// | reward | `ẋ − 10⁻⁴·‖a‖²`, ẋ the front tip's x velocity over the step |
/// | termination | never |
/// | reset | `qpos`, `qvel` = initial + U(−0.1, 0.1) per entry |
public final class Swimmer: MuJoCoEnvironment {
    public let id = "Swimmer-v5"
    public let simulation: MuJoCoSimulation
    public let frameSkip = 4
    public var random = RandomStream(seed: 0)
    let forwardRewardWeight = 1.0
    let controlCostWeight = 1e-4
    let resetNoiseScale = 0.1

    public init() throws(EnvironmentError) { simulation = try MuJoCoSimulation(modelFile: "swimmer.xml") }

    public var observationSpace: BoxSpace { unboundedBox(8) }

    public func drawInitialState() -> (positions: [Double], velocities: [Double]) {
        (initialPositions(uniformNoise: resetNoiseScale), initialVelocities(uniformNoise: resetNoiseScale))
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        let xVelocity = simulateMeasuringForwardVelocity(action) { simulation.positions[0] }
        return (forwardRewardWeight * xVelocity - controlCost(action, weight: controlCostWeight), false)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        writePositionsAndVelocities(into: observation, skipping: 2)
    }

    public func renderSVG() -> String { MuJoCoPicture(simulation, view: .above).svg }
}
