import Foundation
import Linalg

/// Pendulum-v1: swing a frictionless pendulum up and hold it upright with a limited torque. As
/// Gymnasium 1.x `classic_control/pendulum.py` (g = 10).
///
/// ## Action Space
/// `Box(-2, 2, (1,), float32)`: the torque, clipped to [-2, 2].
///
/// ## Observation Space
/// | Num | Observation      | Min  | Max |
/// |-----|------------------|------|-----|
/// | 0   | x = cos(θ)       | -1.0 | 1.0 |
/// | 1   | y = sin(θ)       | -1.0 | 1.0 |
/// | 2   | angular velocity | -8.0 | 8.0 |
///
/// ## Rewards
/// `−(θ_n² + 0.1 θ̇² + 0.001 u²)` with θ_n the angle normalised to [−π, π] (0 upright).
///
/// ## Starting State
/// θ uniform in [−π, π], θ̇ uniform in [−1, 1].
///
/// ## Episode End
/// No termination. Truncation: 200 steps.
///
/// ## Version History
/// v1 as in Gymnasium 1.x.
public final class Pendulum: Environment {
    public let id = "Pendulum-v1"

    let maxSpeed = 8.0  // [rad/s]
    let maxTorque: Float = 2.0  // [N·m]
    let dt = 0.05  // [s]
    let g = 10.0  // [m/s²]
    let m = 1.0  // [kg]
    let l = 1.0  // [m]

    var theta = 0.0, thetaDot = 0.0
    var lastTorque: Float? = nil
    public var random = RandomStream(seed: 0)

    public init() {}

    public var observationSpace: BoxSpace { BoxSpace(symmetric: [1, 1, Float(maxSpeed)]) }
    public var actionSpace: ActionSpace { .box(BoxSpace(symmetric: [maxTorque])) }
    public let stateLabels = ["theta", "theta_dot"]
    public var state: [Double] { [theta, thetaDot] }

    public func setState(_ state: [Double]) throws(EnvironmentError) {
        try validateState(state)
        (theta, thetaDot) = (state[0], state[1])
    }

    public func resetState(seed: UInt64?) {
        if let seed { random = RandomStream(seed: seed) }
        theta = random.uniform(-Double.pi, Double.pi)
        thetaDot = random.uniform(-1, 1)
        lastTorque = nil
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        guard case .continuous(let values) = action, values.count == 1 else {
            preconditionFailure("Pendulum: invalid action \(action)")
        }
        let u = bound(values[0], -maxTorque, maxTorque)
        lastTorque = u
        // The torque terms are float32 in Gymnasium (NumPy 2 keeps float32 × Python float in float32).
        let normalized = angleNormalize(theta)
        let costs = normalized * normalized + 0.1 * (thetaDot * thetaDot) + Double(Float(0.001) * (u * u))
        var newThetaDot = thetaDot + (3 * g / (2 * l) * sin(theta) + Double(Float(3.0 / (m * l * l)) * u)) * dt
        newThetaDot = bound(newThetaDot, -maxSpeed, maxSpeed)
        theta = theta + newThetaDot * dt
        thetaDot = newThetaDot
        return (-costs, false)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(cos(theta))
        observation[1] = Float(sin(theta))
        observation[2] = Float(thetaDot)
    }

    public func renderSVG() -> String {
        let cx = 200.0
        let cy = 200.0
        let length = 150.0
        let tip = (cx + length * sin(theta), cy - length * cos(theta))
        return SVG.document(width: 400, height: 400) {
            SVG.line(x1: cx, y1: cy, x2: tip.0, y2: tip.1, stroke: "#cc4c4c", width: 16)
            SVG.circle(cx: cx, cy: cy, r: 8, fill: "#000")
            SVG.text(x: 10, y: 20, lastTorque.map { "torque \($0)" } ?? "")
        }
    }
}

/// `((x + π) mod 2π) − π` with NumPy's floor remainder: the angle in [−π, π).
func angleNormalize(_ x: Double) -> Double {
    floorRemainder(x + Double.pi, 2 * Double.pi) - Double.pi
}
