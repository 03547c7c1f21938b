import Linalg

/// What the MuJoCo environments share: the state is `qpos` then `qvel`, the action space is the
/// actuators' control ranges, a step sets the controls and advances `frameSkip` physics steps.
/// Each environment (one file each) adds its observation, reward, termination and reset noise.
public protocol MuJoCoEnvironment: Environment {
    var simulation: MuJoCoSimulation { get }
    /// Physics steps per environment step.
    var frameSkip: Int { get }
    /// A new initial state (Gymnasium's `reset_model`), drawn from `random`.
    func drawInitialState() -> (positions: [Double], velocities: [Double])
}

extension MuJoCoEnvironment {
    public var actionSpace: ActionSpace { .box(simulation.controlRange) }
    public var stateLabels: [String] { simulation.stateLabels }
    public var state: [Double] { simulation.state }
    /// Whether every position and velocity is finite (without building the state).
    public var stateIsFinite: Bool { simulation.positions.allSatisfy(\.isFinite) && simulation.velocities.allSatisfy(\.isFinite) }
    /// Seconds per environment step: `timestep · frameSkip`.
    public var dt: Double { simulation.timestep * Double(frameSkip) }

    public func setState(_ state: [Double]) throws(EnvironmentError) {
        try validateState(state)
        simulation.setState(state)
    }

    public func resetState(seed: UInt64?) {
        if let seed { random = RandomStream(seed: seed) }
        let (positions, velocities) = drawInitialState()
        simulation.setState(positions + velocities)
    }

    /// The model's initial positions, each plus a draw from U(−scale, scale).
    public func initialPositions(uniformNoise scale: Double) -> [Double] {
        simulation.initialPositions.map { $0 + random.uniform(-scale, scale) }
    }

    /// The model's initial velocities, each plus a draw from U(−scale, scale).
    public func initialVelocities(uniformNoise scale: Double) -> [Double] {
        simulation.initialVelocities.map { $0 + random.uniform(-scale, scale) }
    }

    /// The model's initial velocities, each plus `scale` times a standard normal draw.
    public func initialVelocities(normalNoise scale: Double) -> [Double] {
        simulation.initialVelocities.map { $0 + scale * random.normal() }
    }

    /// The state, the solver's warm start and what the environment reads between steps.
    public var snapshot: EnvironmentSnapshot {
        EnvironmentSnapshot(values: state + simulation.warmStart + simulation.readings, random: random.state)
    }

    public func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        let count = simulation.nq + simulation.nv
        let expected = count + simulation.nv + simulation.readingsCount
        guard snapshot.values.count == expected else {
            throw EnvironmentError("\(id): a snapshot holds \(expected) values, got \(snapshot.values.count)")
        }
        try setState(Array(snapshot.values[..<count]))
        simulation.warmStart = Array(snapshot.values[count..<(count + simulation.nv)])
        simulation.readings = Array(snapshot.values[(count + simulation.nv)...])
        try restoreRandom(snapshot.random)
    }

    /// Advances one environment step and returns the x velocity of `position` over it (the
    /// forward reward of the locomotion robots: qpos[0], or a body's world x for Ant).
    public func simulateMeasuringForwardVelocity(_ action: Action, position: () -> Double) -> Double {
        let before = position()
        simulate(action)
        return (position() - before) / dt
    }

    /// Advances one environment step with the action's values as controls.
    public func simulate(_ action: Action) {
        guard case .continuous(let values) = action else { preconditionFailure("\(id) takes continuous actions") }
        simulation.step(controls: values, frames: frameSkip)
    }

    /// Writes `qpos[skipping...]` then `qvel` (clipped to ±`velocityClip` when given) from
    /// `observation[offset]` on: the observation of the locomotion robots, which leave out their
    /// x (and y) position so the policy does not depend on where it is.
    public func writePositionsAndVelocities(
        into observation: UnsafeMutableBufferPointer<Float>, skipping: Int, velocityClip: Double? = nil, offset: Int = 0
    ) {
        var k = offset
        for value in simulation.positions.dropFirst(skipping) {
            observation[k] = Float(value)
            k += 1
        }
        for value in simulation.velocities {
            observation[k] = Float(velocityClip.map { min(max(value, -$0), $0) } ?? value)
            k += 1
        }
    }

    /// An unbounded box of `dimension` values (the MuJoCo observation spaces).
    public func unboundedBox(_ dimension: Int) -> BoxSpace {
        BoxSpace(low: Array(repeating: -.infinity, count: dimension), high: Array(repeating: .infinity, count: dimension))
    }

    /// `weight · Σ a²` as Gymnasium computes it on a float32 action: the sum and the product in
    /// Float32 (NumPy's `weight * np.sum(np.square(action))`).
    public func controlCost(_ action: Action, weight: Double) -> Double {
        guard case .continuous(let values) = action else { return 0 }
        return Double(Float(weight) * values.reduce(Float(0)) { $0 + $1 * $1 })
    }
}
