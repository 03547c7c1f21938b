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

    /// The lowest return an episode can have (see `Environment.worstReturn(steps:)`).
    public var worstReturn: Double? { base.worstReturn(steps: maxEpisodeSteps) }

    /// Resets the environment and the step counter; returns the initial observation.
    @discardableResult
    public func reset(seed: UInt64? = nil) -> [Float] {
        elapsedSteps = 0
        return base.reset(seed: seed)
    }

    /// One step with truncation at the limit.
    public func step(_ action: Action) -> StepResult {
        var result = base.step(action)
        elapsedSteps += 1
        result.truncated = elapsedSteps >= maxEpisodeSteps
        return result
    }

    /// One step without building the observation array (see `Environment.observe(into:)`).
    @inline(__always)
    public func advance(_ action: Action) -> (reward: Double, terminated: Bool, truncated: Bool) {
        let (reward, terminated) = base.advance(action)
        elapsedSteps += 1
        return (reward, terminated, elapsedSteps >= maxEpisodeSteps)
    }
}
