import Foundation
import Linalg

/// MountainCarContinuous-v0: the mountain car with a continuous force, a bonus for reaching the
/// flag and a cost for the energy spent. As Gymnasium 1.x
/// `classic_control/continuous_mountain_car.py`.
///
/// ## Action Space
/// `Box(-1, 1, (1,), float32)`: the force, clipped to [-1, 1] and scaled by 0.0015.
///
/// ## Observation Space
/// | Num | Observation           | Min   | Max  |
/// |-----|-----------------------|-------|------|
/// | 0   | position of the car   | -1.2  | 0.6  |
/// | 1   | velocity of the car   | -0.07 | 0.07 |
///
/// ## Rewards
/// −0.1·a² every step (of the unclipped action), +100 on reaching the goal.
///
/// ## Starting State
/// Position uniform in [-0.6, -0.4], velocity 0.
///
/// ## Episode End
/// Termination: position ≥ 0.45 with velocity ≥ 0. Truncation: 999 steps.
///
/// ## Precision
/// Gymnasium stores this environment's state as float32 after every step (unlike the other
/// classic-control environments) and NumPy 2 then computes in float32; Gauntlet does the same,
/// so trajectories agree to float32 rounding instead of drifting apart.
///
/// ## Version History
/// v0 as in Gymnasium 1.x.
public final class MountainCarContinuous: Environment {
    public let id = "MountainCarContinuous-v0"

    let minAction: Float = -1
    let maxAction: Float = 1
    let minPosition = -1.2
    let maxPosition = 0.6
    let maxSpeed = 0.07
    let goalPosition = 0.45
    let goalVelocity = 0.0
    let power = 0.0015

    var position = 0.0, velocity = 0.0
    /// Whether the state holds float32 values (after a step) rather than float64 ones (after a
    /// reset or `setState`): it decides the precision of the next step's arithmetic.
    var stateIsSinglePrecision = false
    public var random = RandomStream(seed: 0)

    public init() {}

    public var observationSpace: BoxSpace {
        BoxSpace(low: [Float(minPosition), Float(-maxSpeed)], high: [Float(maxPosition), Float(maxSpeed)])
    }
    public var actionSpace: ActionSpace { .box(BoxSpace(low: [minAction], high: [maxAction])) }
    public let stateLabels = ["position", "velocity"]
    public var state: [Double] { [position, velocity] }

    public func setState(_ state: [Double]) throws(EnvironmentError) {
        try validateState(state)
        (position, velocity) = (state[0], state[1])
        stateIsSinglePrecision = false
    }

    public var snapshot: EnvironmentSnapshot {
        EnvironmentSnapshot(values: state + [stateIsSinglePrecision ? 1 : 0], random: random.state)
    }

    public func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        guard snapshot.values.count == 3 else { throw EnvironmentError("\(id): a snapshot has 3 values") }
        try setState(Array(snapshot.values.prefix(2)))
        stateIsSinglePrecision = snapshot.values[2] == 1
        try restoreRandom(snapshot.random)
    }

    public func resetState(seed: UInt64?) {
        if let seed { random = RandomStream(seed: seed) }
        position = random.uniform(-0.6, -0.4)
        velocity = 0
        stateIsSinglePrecision = false
    }

    public func advance(_ action: Action) -> (reward: Double, terminated: Bool) {
        guard case .continuous(let values) = action, values.count == 1 else {
            preconditionFailure("MountainCarContinuous: invalid action \(action)")
        }
        let force = bound(values[0], minAction, maxAction)
        // A clipped force is a Python float in Gymnasium, so its product stays in float64.
        let clipped = force != values[0]
        let terminated: Bool
        if stateIsSinglePrecision {
            // v ← v + force·power − 0.0025·cos(3p), with NumPy 2's float32 promotion.
            let p = Float(position)
            let v = Float(velocity)
            let cosine = cos(Double(3 * p))
            let increment =
                clipped
                ? Float(Double(force) * power - 0.0025 * cosine) : force * Float(power) - Float(0.0025 * cosine)
            let (newP, newV) = move(position: p, velocity: v + increment)
            terminated = newP >= Float(goalPosition) && newV >= Float(goalVelocity)
            (position, velocity) = (Double(newP), Double(newV))
        } else {
            let cosine = cos(3 * position)
            let increment =
                clipped
                ? Double(force) * power - 0.0025 * cosine : Double(force * Float(power) - Float(0.0025 * cosine))
            let (newP, newV) = move(position: position, velocity: velocity + increment)
            terminated = newP >= goalPosition && newV >= goalVelocity
            (position, velocity) = (Double(Float(newP)), Double(Float(newV)))
        }
        stateIsSinglePrecision = true
        var reward = terminated ? 100.0 : 0.0
        reward -= Double(values[0]) * Double(values[0]) * 0.1
        return (reward, terminated)
    }

    /// Clamps the velocity, moves, and stops the car at the left wall.
    private func move<T: BinaryFloatingPoint>(position: T, velocity: T) -> (T, T) {
        var velocity = bound(velocity, T(-maxSpeed), T(maxSpeed))
        let position = bound(position + velocity, T(minPosition), T(maxPosition))
        if position == T(minPosition) && velocity < 0 { velocity = 0 }
        return (position, velocity)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(position)
        observation[1] = Float(velocity)
    }

    public func renderSVG() -> String {
        mountainCarSVG(position: position, goal: goalPosition, min: minPosition, max: maxPosition)
    }
}
