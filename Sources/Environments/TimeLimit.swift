import Linalg

/// Truncates episodes after `maxEpisodeSteps` steps, as Gymnasium's `TimeLimit` wrapper: the
/// step that reaches the limit reports `truncated = true` (and may also be `terminated`).
public final class TimeLimit {
    public let base: any Environment
    public let maxEpisodeSteps: Int
    /// Steps since the last reset.
    public var elapsedSteps = 0

    public init(_ base: any Environment, maxEpisodeSteps: Int) {
        precondition(maxEpisodeSteps > 0, "a time limit must be positive")
        self.base = base
        self.maxEpisodeSteps = maxEpisodeSteps
    }

    /// The mean return of the uniformly random policy over `episodes` episodes on seeds
    /// `seed, seed + 1, …` (actions from child streams of `seed`): the "random" reference of
    /// normalised scores, and the floor defense tables measure damage above.
    public func randomPolicyReturn(episodes: Int = 100, seed: UInt64 = 0) -> Double {
        let actions = RandomStream(seed: seed)
        var total = 0.0
        for episode in 0..<episodes {
            let random = actions.child(episode)
            reset(seed: seed + UInt64(episode))
            while true {
                let (reward, terminated, truncated) = advance(base.actionSpace.sample(random))
                total += reward
                if terminated || truncated { break }
            }
        }
        return total / Double(max(episodes, 1))
    }

    /// Resets the environment and the step counter; returns the initial observation.
    /// The wrapped environment's failure, if any (see `Environment.failure`).
    public var failure: EnvironmentError? { base.failure }

    /// Throws the wrapped environment's failure, if any.
    public func checkFailure() throws(EnvironmentError) {
        if let failure = base.failure { throw failure }
    }

    @discardableResult
    public func reset(seed: UInt64? = nil) -> [Float] {
        elapsedSteps = 0
        return base.reset(seed: seed)
    }

    /// One step with truncation at the limit.
    public func step(_ action: Action) -> StepResult {
        var result = base.step(action)
        elapsedSteps += 1
        result.truncated = elapsedSteps >= maxEpisodeSteps || base.truncatedItself
        return result
    }

    /// One step without building the observation array (see `Environment.observe(into:)`).
    @inline(__always)
    public func advance(_ action: Action) -> (reward: Double, terminated: Bool, truncated: Bool) {
        let (reward, terminated) = base.advance(action)
        elapsedSteps += 1
        return (reward, terminated, elapsedSteps >= maxEpisodeSteps || base.truncatedItself)
    }
}
