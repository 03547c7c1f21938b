import Agents
import Linalg
import Testing

@Suite struct RewardScalerTests {
    /// After many steps the scale is the standard deviation of every discounted return seen
    /// (computed here directly; the 1e-4 pseudo-count prior has faded), returns restart at the
    /// end of an episode, and scaled rewards are clipped.
    @Test func scalesByTheStandardDeviationOfTheReturn() {
        var scaler = RewardScaler(copies: 3, gamma: 0.9)
        let random = RandomStream(seed: 1)
        var returns = [0.0, 0.0, 0.0]
        var seen: [Double] = []
        var lastScaled: [Double] = []
        var lastRewards: [Double] = []
        for step in 0..<3000 {
            let rewards = (0..<3).map { _ in random.uniform(0, 2) }
            let done = (0..<3).map { copy in (step + copy) % 50 == 49 }
            for i in 0..<3 { returns[i] = returns[i] * 0.9 + rewards[i] }
            seen += returns
            for i in 0..<3 where done[i] { returns[i] = 0 }
            lastScaled = scaler.scale(rewards, done: done)
            lastRewards = rewards
        }
        let mean = seen.reduce(0, +) / Double(seen.count)
        let std = (seen.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(seen.count)).squareRoot()
        #expect(abs(scaler.mean - mean) < 1e-3 && abs(scaler.variance.squareRoot() - std) / std < 1e-3)
        #expect(scaler.returns == returns)
        for i in 0..<3 { #expect(abs(lastScaled[i] - lastRewards[i] / (scaler.variance + 1e-8).squareRoot()) < 1e-12) }
        var clipped = RewardScaler(copies: 1, gamma: 0.99, clip: 2)
        #expect(clipped.scale([1000], done: [false]) == [2])
    }
}
