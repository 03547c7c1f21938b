import Foundation
import Linalg

/// Acrobot-v1: two links hanging from a fixed joint, with torque applied at the joint between
/// them; swing the tip above the bar. Sutton (1996), "Generalization in reinforcement learning:
/// successful examples using sparse coarse coding", with the dynamics of Sutton & Barto's book
/// (not the NIPS paper); as Gymnasium 1.x `classic_control/acrobot.py`, RK4 over dt = 0.2 s.
///
/// ## Action Space
/// `Discrete(3)`: torque −1, 0 or +1 N·m on the joint between the links.
///
/// ## Observation Space
/// | Num | Observation                  | Min                 | Max               |
/// |-----|------------------------------|---------------------|-------------------|
/// | 0   | cos(θ₁)                      | -1                  | 1                 |
/// | 1   | sin(θ₁)                      | -1                  | 1                 |
/// | 2   | cos(θ₂)                      | -1                  | 1                 |
/// | 3   | sin(θ₂)                      | -1                  | 1                 |
/// | 4   | angular velocity of θ₁       | ~ -12.567 (-4π)     | ~ 12.567 (4π)     |
/// | 5   | angular velocity of θ₂       | ~ -28.274 (-9π)     | ~ 28.274 (9π)     |
///
/// ## Rewards
/// −1 every step that does not reach the goal, 0 on the step that does.
///
/// ## Starting State
/// θ₁, θ₂, θ̇₁, θ̇₂ uniform in [-0.1, 0.1], rounded to float32 as Gymnasium does.
///
/// ## Episode End
/// Termination: `−cos θ₁ − cos(θ₁ + θ₂) > 1`. Truncation: 500 steps.
///
/// ## Version History
/// v1 as in Gymnasium 1.x (book dynamics, no torque noise).
public final class Acrobot: Environment {
    public let id = "Acrobot-v1"

    let dt = 0.2  // [s]
    let linkLength1 = 1.0  // [m]
    let linkMass1 = 1.0  // [kg]
    let linkMass2 = 1.0  // [kg]
    let linkCenterOfMass1 = 0.5  // [m]
    let linkCenterOfMass2 = 0.5  // [m]
    let linkMomentOfInertia = 1.0  // [kg·m²], both links
    let maxVelocity1 = 4 * Double.pi  // [rad/s]
    let maxVelocity2 = 9 * Double.pi  // [rad/s]
    let availableTorque = [-1.0, 0.0, 1.0]  // [N·m]
    let g = 9.8  // [m/s²]

    var s: InlineArray<4, Double> = [0, 0, 0, 0]
    public var random = RandomStream(seed: 0)

    public init() {}

    public var observationSpace: BoxSpace {
        BoxSpace(symmetric: [1, 1, 1, 1, Float(maxVelocity1), Float(maxVelocity2)])
    }
    public let actionSpace = ActionSpace.discrete(3)
    public let stateLabels = ["theta1", "theta2", "dtheta1", "dtheta2"]
    public var state: [Double] { [s[0], s[1], s[2], s[3]] }

    public func setState(_ state: [Double]) throws(EnvironmentError) {
        try validateState(state)
        for i in 0..<4 { s[i] = state[i] }
    }

    public func resetState(seed: UInt64?) {
        if let seed { random = RandomStream(seed: seed) }
        for i in 0..<4 { s[i] = Double(Float(random.uniform(-0.1, 0.1))) }
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        guard case .discrete(let a) = action, (0..<3).contains(a) else {
            preconditionFailure("Acrobot: invalid action \(action)")
        }
        let torque = availableTorque[a]
        var next = rk4(s, dt: dt) { derivative($0, torque: torque) }
        next[0] = wrap(next[0], -Double.pi, Double.pi)
        next[1] = wrap(next[1], -Double.pi, Double.pi)
        next[2] = bound(next[2], -maxVelocity1, maxVelocity1)
        next[3] = bound(next[3], -maxVelocity2, maxVelocity2)
        s = next
        let terminated = -cos(s[0]) - cos(s[1] + s[0]) > 1.0
        return (terminated ? 0 : -1, terminated)
    }

    /// The equations of motion (Sutton & Barto's book version), `d/dt (θ₁, θ₂, θ̇₁, θ̇₂)`.
    func derivative(_ s: InlineArray<4, Double>, torque a: Double) -> InlineArray<4, Double> {
        let m1 = linkMass1
        let m2 = linkMass2
        let l1 = linkLength1
        let lc1 = linkCenterOfMass1
        let lc2 = linkCenterOfMass2
        let I1 = linkMomentOfInertia
        let I2 = linkMomentOfInertia
        let (theta1, theta2, dtheta1, dtheta2) = (s[0], s[1], s[2], s[3])
        let d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos(theta2)) + I1 + I2
        let d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos(theta2)) + I2
        let phi2 = m2 * lc2 * g * cos(theta1 + theta2 - Double.pi / 2.0)
        let phi1 =
            -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * cos(theta1 - Double.pi / 2)
            + phi2
        let ddtheta2 =
            (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin(theta2) - phi2)
            / (m2 * lc2 * lc2 + I2 - d2 * d2 / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return [dtheta1, dtheta2, ddtheta1, ddtheta2]
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(cos(s[0]))
        observation[1] = Float(sin(s[0]))
        observation[2] = Float(cos(s[1]))
        observation[3] = Float(sin(s[1]))
        observation[4] = Float(s[2])
        observation[5] = Float(s[3])
    }

    public func renderSVG() -> String {
        let scale = 90.0
        let cx = 200.0
        let cy = 200.0
        let p1 = (cx + scale * sin(s[0]), cy + scale * cos(s[0]))
        let p2 = (p1.0 + scale * sin(s[0] + s[1]), p1.1 + scale * cos(s[0] + s[1]))
        return SVG.document(width: 400, height: 400) {
            SVG.line(x1: 20, y1: cy - scale, x2: 380, y2: cy - scale, stroke: "#000")
            SVG.line(x1: cx, y1: cy, x2: p1.0, y2: p1.1, stroke: "#0c8", width: 10)
            SVG.line(x1: p1.0, y1: p1.1, x2: p2.0, y2: p2.1, stroke: "#0c8", width: 10)
            SVG.circle(cx: cx, cy: cy, r: 6, fill: "#cc0")
            SVG.circle(cx: p1.0, cy: p1.1, r: 6, fill: "#cc0")
        }
    }
}
