import Foundation
import Linalg

/// `Reacher-v5` (Gymnasium 1.x, default arguments): a two-link arm in the plane that should
/// bring its fingertip to a random target. Model: `envs/mujoco/reacher.xml` (RK4, timestep 0.01).
///
/// | | |
/// |---|---|
/// | observation (10) | cos and sin of both joint angles, the target's position (`qpos[2:]`), both joint velocities, fingertip − target (x, y) |
/// | action (2) | joint torques in [−1, 1] (gear 200) |
/// | step | 2 physics steps (dt = 0.02 s) |
/// | reward | `−‖fingertip − target‖ − ‖a‖²` |
/// | termination | never |
/// | reset | joint angles = initial + U(−0.1, 0.1); the target uniform in the disc of radius 0.2 (rejection from the square); joint velocities U(−0.005, 0.005), the target's 0 |
public final class Reacher: MuJoCoEnvironment {
    public let id = "Reacher-v5"
    public let simulation: MuJoCoSimulation
    public let frameSkip = 2
    public var random = RandomStream(seed: 0)
    let distanceWeight = 1.0
    let controlWeight = 1.0
    let fingertip: Int
    let target: Int

    public init() throws(EnvironmentError) {
        simulation = try MuJoCoSimulation(modelFile: "reacher.xml")
        fingertip = simulation.body("fingertip")
        target = simulation.body("target")
    }

    public var observationSpace: BoxSpace { unboundedBox(10) }

    public func drawInitialState() -> (positions: [Double], velocities: [Double]) {
        var positions = initialPositions(uniformNoise: 0.1)
        var goal: (x: Double, y: Double)
        repeat { goal = (random.uniform(-0.2, 0.2), random.uniform(-0.2, 0.2)) } while hypot(goal.x, goal.y) >= 0.2
        (positions[2], positions[3]) = goal
        var velocities = initialVelocities(uniformNoise: 0.005)
        (velocities[2], velocities[3]) = (0, 0)
        return (positions, velocities)
    }

    var fingertipToTarget: (x: Double, y: Double, z: Double) {
        let (a, b) = (simulation.bodyPosition(fingertip), simulation.bodyPosition(target))
        return (a.x - b.x, a.y - b.y, a.z - b.z)
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        simulate(action)
        let v = fingertipToTarget
        let distanceReward = -(v.x * v.x + v.y * v.y + v.z * v.z).squareRoot() * distanceWeight
        return (distanceReward - controlCost(action, weight: controlWeight), false)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        let q = simulation.positions
        observation[0] = Float(cos(q[0]))
        observation[1] = Float(cos(q[1]))
        observation[2] = Float(sin(q[0]))
        observation[3] = Float(sin(q[1]))
        observation[4] = Float(q[2])
        observation[5] = Float(q[3])
        observation[6] = Float(simulation.velocities[0])
        observation[7] = Float(simulation.velocities[1])
        let v = fingertipToTarget
        observation[8] = Float(v.x)
        observation[9] = Float(v.y)
    }

    public func renderSVG() -> String { MuJoCoPicture(simulation, view: .above, scale: 600).svg }
}
