import Foundation
import Linalg

/// CartPole-v1: a pole hinged on a cart that moves along a frictionless track; push the cart
/// left or right to keep the pole upright. Barto, Sutton & Anderson (1983), "Neuronlike adaptive
/// elements that can solve difficult learning control problems"; dynamics, constants and rules as
/// Gymnasium 1.x `classic_control/cartpole.py` (Euler integration).
///
/// ## Action Space
/// `Discrete(2)`: 0 pushes the cart left, 1 pushes it right, with a force of 10 N.
///
/// ## Observation Space
/// | Num | Observation           | Min                 | Max               |
/// |-----|-----------------------|---------------------|-------------------|
/// | 0   | Cart Position         | -4.8                | 4.8               |
/// | 1   | Cart Velocity         | -Inf                | Inf               |
/// | 2   | Pole Angle            | ~ -0.418 rad (-24°) | ~ 0.418 rad (24°) |
/// | 3   | Pole Angular Velocity | -Inf                | Inf               |
///
/// ## Rewards
/// +1 for every step, including the step on which the pole falls; 0 for steps taken after
/// termination (Gymnasium warns about those).
///
/// ## Starting State
/// Every state variable uniform in [-0.05, 0.05].
///
/// ## Episode End
/// Termination: pole angle beyond ±12°, or cart position beyond ±2.4 (the centre leaves the
/// display). Truncation: 500 steps (`TimeLimit`).
///
/// ## Version History
/// v1 as in Gymnasium 1.x: limit 500, velocity bounds ±∞ in the observation space.
public final class CartPole: Environment {
    public let id = "CartPole-v1"

    let gravity = 9.8  // [m/s²]
    let massCart = 1.0  // [kg]
    let massPole = 0.1  // [kg]
    var totalMass: Double { massPole + massCart }
    let length = 0.5  // [m], half the pole's length
    var poleMassLength: Double { massPole * length }
    let forceMagnitude = 10.0  // [N]
    let tau = 0.02  // [s] between state updates
    let thetaThreshold = 12 * 2 * Double.pi / 360  // [rad]
    let xThreshold = 2.4  // [m]

    var x = 0.0, xDot = 0.0, theta = 0.0, thetaDot = 0.0
    var stepsBeyondTerminated: Int? = nil
    public var random = RandomStream(seed: 0)

    public init() {}

    public var observationSpace: BoxSpace {
        BoxSpace(symmetric: [Float(xThreshold * 2), .infinity, Float(thetaThreshold * 2), .infinity])
    }
    public let actionSpace = ActionSpace.discrete(2)
    public let stateLabels = ["x", "x_dot", "theta", "theta_dot"]
    public var state: [Double] { [x, xDot, theta, thetaDot] }

    public func setState(_ state: [Double]) throws(EnvironmentError) {
        try validateState(state)
        (x, xDot, theta, thetaDot) = (state[0], state[1], state[2], state[3])
        stepsBeyondTerminated = nil
    }

    public var snapshot: EnvironmentSnapshot {
        EnvironmentSnapshot(values: state + [Double(stepsBeyondTerminated ?? -1)], random: random.state)
    }

    public func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        guard snapshot.values.count == 5 else { throw EnvironmentError("\(id): a snapshot has 5 values") }
        try setState(Array(snapshot.values.prefix(4)))
        stepsBeyondTerminated = snapshot.values[4] < 0 ? nil : Int(snapshot.values[4])
        try restoreRandom(snapshot.random)
    }

    public func resetState(seed: UInt64?) {
        if let seed { random = RandomStream(seed: seed) }
        x = random.uniform(-0.05, 0.05)
        xDot = random.uniform(-0.05, 0.05)
        theta = random.uniform(-0.05, 0.05)
        thetaDot = random.uniform(-0.05, 0.05)
        stepsBeyondTerminated = nil
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        guard case .discrete(let a) = action, a == 0 || a == 1 else { preconditionFailure("CartPole: invalid action \(action)") }
        let force = a == 1 ? forceMagnitude : -forceMagnitude
        let cosTheta = cos(theta)
        let sinTheta = sin(theta)
        // Florian (2007), "Correct equations for the dynamics of the cart-pole system".
        let temp = (force + poleMassLength * (thetaDot * thetaDot) * sinTheta) / totalMass
        let thetaAcc =
            (gravity * sinTheta - cosTheta * temp)
            / (length * (4.0 / 3.0 - massPole * (cosTheta * cosTheta) / totalMass))
        let xAcc = temp - poleMassLength * thetaAcc * cosTheta / totalMass
        x = x + tau * xDot
        xDot = xDot + tau * xAcc
        theta = theta + tau * thetaDot
        thetaDot = thetaDot + tau * thetaAcc

        let terminated = x < -xThreshold || x > xThreshold || theta < -thetaThreshold || theta > thetaThreshold
        let reward: Double
        if !terminated {
            reward = 1
        } else if stepsBeyondTerminated == nil {
            stepsBeyondTerminated = 0
            reward = 1
        } else {
            stepsBeyondTerminated! += 1
            reward = 0
        }
        return (reward, terminated)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(x)
        observation[1] = Float(xDot)
        observation[2] = Float(theta)
        observation[3] = Float(thetaDot)
    }

    public func renderSVG() -> String {
        let scale = 600 / (xThreshold * 2)
        let cartX = 300 + x * scale
        let cartY = 300.0
        let poleLength = scale * 2 * length
        let tipX = cartX + poleLength * sin(theta)
        let tipY = cartY - poleLength * cos(theta)
        return SVG.document(width: 600, height: 400) {
            SVG.line(x1: 0, y1: cartY + 15, x2: 600, y2: cartY + 15, stroke: "#000")
            SVG.rect(x: cartX - 25, y: cartY - 15, width: 50, height: 30, fill: "#333")
            SVG.line(x1: cartX, y1: cartY, x2: tipX, y2: tipY, stroke: "#ca9865", width: 10)
            SVG.circle(cx: cartX, cy: cartY, r: 5, fill: "#8184cb")
        }
    }
}
