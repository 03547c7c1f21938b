import Foundation
import Linalg

/// `InvertedDoublePendulum-v5` (Gymnasium 1.x, default arguments): a cart on a rail balancing two
/// poles stacked on free hinges. Model: `envs/mujoco/inverted_double_pendulum.xml` (RK4,
/// timestep 0.01).
///
/// | | |
/// |---|---|
/// | observation (9) | cart position, sin and cos of both pole angles, `qvel` clipped to ±10, the cart's constraint force clipped to ±10 |
/// | action (1) | force on the cart in [−1, 1] (gear 500) |
/// | step | 5 physics steps (dt = 0.05 s) |
/// | reward | `10·(y > 1) − 0.01·x² − (y − 2)² − 10⁻³·θ̇₁² − 5·10⁻³·θ̇₂²`, (x, y) the tip's position |
/// | termination | the tip's height y ≤ 1 |
/// | reset | `qpos` = initial + U(−0.1, 0.1), `qvel` = initial + 0.1·N(0, 1) per entry |
public final class InvertedDoublePendulum: MuJoCoEnvironment {
    public let id = "InvertedDoublePendulum-v5"
    public let simulation: MuJoCoSimulation
    public let frameSkip = 5
    public var random = RandomStream(seed: 0)
    let healthyReward = 10.0
    let resetNoiseScale = 0.1

    public init() throws(EnvironmentError) { simulation = try MuJoCoSimulation(modelFile: "inverted_double_pendulum.xml") }

    public var observationSpace: BoxSpace { unboundedBox(9) }

    public func drawInitialState() -> (positions: [Double], velocities: [Double]) {
        let positions = initialPositions(uniformNoise: resetNoiseScale)
        return (positions, initialVelocities(normalNoise: resetNoiseScale))
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        simulate(action)
        let tip = simulation.sitePosition(0)
        let terminated = tip.z <= 1
        let (v1, v2) = (simulation.velocities[1], simulation.velocities[2])
        let distancePenalty = 0.01 * tip.x * tip.x + (tip.z - 2) * (tip.z - 2)
        let velocityPenalty = 1e-3 * v1 * v1 + 5e-3 * v2 * v2
        return ((terminated ? 0 : healthyReward) - distancePenalty - velocityPenalty, terminated)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        let q = simulation.positions
        let clip = { (value: Double) in Float(min(max(value, -10), 10)) }
        observation[0] = Float(q[0])
        observation[1] = Float(sin(q[1]))
        observation[2] = Float(sin(q[2]))
        observation[3] = Float(cos(q[1]))
        observation[4] = Float(cos(q[2]))
        for i in 0..<3 { observation[5 + i] = clip(simulation.velocities[i]) }
        observation[8] = clip(simulation.constraintForce(0))
    }

    public func renderSVG() -> String { MuJoCoPicture(simulation).svg }
}
