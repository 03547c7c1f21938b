import Foundation
import Linalg

/// MountainCar-v0: an under-powered car in a valley must rock back and forth to reach the flag
/// on the right hill. Moore (1990), "Efficient memory-based learning for robot control"; as
/// Gymnasium 1.x `classic_control/mountain_car.py`.
///
/// ## Action Space
/// `Discrete(3)`: 0 accelerate left, 1 don't accelerate, 2 accelerate right.
///
/// ## Observation Space
/// | Num | Observation           | Min   | Max  |
/// |-----|-----------------------|-------|------|
/// | 0   | position of the car   | -1.2  | 0.6  |
/// | 1   | velocity of the car   | -0.07 | 0.07 |
///
/// ## Rewards
/// −1 every step.
///
/// ## Starting State
/// Position uniform in [-0.6, -0.4], velocity 0.
///
/// ## Episode End
/// Termination: position ≥ 0.5 with velocity ≥ 0. Truncation: 200 steps.
///
/// ## Version History
/// v0 as in Gymnasium 1.x.
public final class MountainCar: Environment {
    public let id = "MountainCar-v0"

    let minPosition = -1.2
    let maxPosition = 0.6
    let maxSpeed = 0.07
    let goalPosition = 0.5
    let goalVelocity = 0.0
    let force = 0.001
    let gravity = 0.0025

    var position = 0.0, velocity = 0.0
    public var random = RandomStream(seed: 0)

    public init() {}

    public var observationSpace: BoxSpace {
        BoxSpace(low: [Float(minPosition), Float(-maxSpeed)], high: [Float(maxPosition), Float(maxSpeed)])
    }
    public let actionSpace = ActionSpace.discrete(3)
    public let stateLabels = ["position", "velocity"]
    public var state: [Double] { [position, velocity] }

    public func setState(_ state: [Double]) throws(EnvironmentError) {
        try validateState(state)
        (position, velocity) = (state[0], state[1])
    }

    public func resetState(seed: UInt64?) {
        if let seed { random = RandomStream(seed: seed) }
        position = random.uniform(-0.6, -0.4)
        velocity = 0
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        guard case .discrete(let a) = action, (0..<3).contains(a) else {
            preconditionFailure("MountainCar: invalid action \(action)")
        }
        // v ← v + (a − 1)·force − cos(3p)·gravity;  p ← p + v
        velocity += Double(a - 1) * force + cos(3 * position) * (-gravity)
        velocity = bound(velocity, -maxSpeed, maxSpeed)
        position += velocity
        position = bound(position, minPosition, maxPosition)
        if position == minPosition && velocity < 0 { velocity = 0 }
        let terminated = position >= goalPosition && velocity >= goalVelocity
        return (-1, terminated)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(position)
        observation[1] = Float(velocity)
    }

    public func renderSVG() -> String {
        mountainCarSVG(position: position, goal: goalPosition, min: minPosition, max: maxPosition)
    }
}

/// The hill `y = 0.45 sin(3x) + 0.55`, the car and the flag, shared by both mountain cars.
func mountainCarSVG(position: Double, goal: Double, min: Double, max: Double) -> String {
    let scale = 600 / (max - min)
    func point(_ x: Double) -> (Double, Double) { ((x - min) * scale, 390 - (0.45 * sin(3 * x) + 0.55) * scale * 0.85) }
    let hill = stride(from: min, through: max, by: (max - min) / 100).map(point)
    let (carX, carY) = point(position)
    let (flagX, flagY) = point(goal)
    return SVG.document(width: 600, height: 400) {
        SVG.polyline(hill, stroke: "#000")
        SVG.line(x1: flagX, y1: flagY, x2: flagX, y2: flagY - 50, stroke: "#000")
        SVG.rect(x: flagX, y: flagY - 50, width: 25, height: 12, fill: "#cccc00")
        SVG.circle(cx: carX, cy: carY - 10, r: 10, fill: "#333")
    }
}
