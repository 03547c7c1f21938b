import Agents
import Environments
import Foundation
import Linalg

/// Which observation dimensions a decision and an attack rest on, at one recorded step:
/// gradient × input of the clean action's output (Simonyan et al. 2014's saliency, in its
/// "gradient × input" form), and the attack's perturbation, per dimension.
public struct Saliency: Sendable, Encodable {
    public var episode: Int
    public var step: Int
    public var observation: [Float]
    public var perturbation: [Float]
    /// `s_j · ∂z_a/∂s_j` for the clean action a (its Q-value, logit or, for continuous
    /// policies, the sum of the outputs).
    public var gradientTimesInput: [Double]
    public var cleanAction: Action
    public var action: Action

    /// The saliency at `step` of `episode` in `replay`.
    public static func at<S: BLASScalar>(_ replay: Replay, episode: Int, step: Int, policy: Policy<S>) throws(EnvironmentError)
        -> Saliency
    {
        guard replay.outcomes.indices.contains(episode) else {
            throw EnvironmentError("episode \(episode) is not in the replay (it has \(replay.outcomes.count))")
        }
        guard replay.outcomes[episode].trace.indices.contains(step) else {
            throw EnvironmentError("step \(step) is not in episode \(episode) (it has \(replay.outcomes[episode].trace.count))")
        }
        let record = replay.outcomes[episode].trace[step]
        let x = Matrix<S>(row: record.observation.map { S($0) })
        var outputGradient = Matrix<S>(rows: 1, columns: policy.outputDimension)
        if case .discrete(let a) = record.cleanAction {
            outputGradient[0, a] = 1
        } else {
            for j in 0..<outputGradient.columns { outputGradient[0, j] = 1 }
        }
        let gradient = policy.inputGradient(x, outputGradient: outputGradient)
        return Saliency(
            episode: episode, step: step, observation: record.observation,
            perturbation: zip(record.perceived, record.observation).map { $0 - $1 },
            gradientTimesInput: (0..<x.columns).map { Double(x[0, $0]) * Double(gradient[0, $0]) },
            cleanAction: record.cleanAction, action: record.action)
    }

    /// The environment at that step, rebuilt by replaying the recorded actions from the
    /// episode's seed.
    public static func environment(_ replay: Replay, episode: Int, step: Int) throws(EnvironmentError) -> TimeLimit {
        let env = try Registry.make(replay.header.environment)
        env.reset(seed: replay.outcomes[episode].seed)
        for record in replay.outcomes[episode].trace.prefix(step) { _ = env.step(record.action) }
        return env
    }

    /// An SVG of the environment frame next to bars of the perturbation and of gradient × input
    /// per observation dimension.
    public func svg(frame: String) -> String {
        let d = observation.count
        let barArea = 360.0
        let rowHeight = 24.0
        let maxPerturbation = max(perturbation.map { Double(abs($0)) }.max() ?? 0, 1e-12)
        let maxSaliency = max(gradientTimesInput.map(abs).max() ?? 0, 1e-12)
        let height = max(400, Int(80 + rowHeight * Double(d)))
        let inner = frame.replacingOccurrences(of: "<svg ", with: "<svg x=\"0\" y=\"0\" ")
        return SVG.document(width: 1000, height: height) {
            inner
            SVG.text(x: 620, y: 24, "episode \(episode), step \(step): clean action \(cleanAction), taken \(action)")
            SVG.text(x: 620, y: 48, "perturbation δ (blue) and gradient × input (orange)", size: 12)
            for j in 0..<d {
                let y = 64 + Double(j) * rowHeight
                let p = Double(perturbation[j]) / maxPerturbation * barArea / 4
                let g = gradientTimesInput[j] / maxSaliency * barArea / 4
                SVG.text(x: 620, y: y + 14, "s[\(j)]", size: 12)
                SVG.rect(x: 760 + min(0, p), y: y + 2, width: abs(p), height: 9, fill: "#3b6fd0")
                SVG.rect(x: 760 + min(0, g), y: y + 12, width: abs(g), height: 9, fill: "#e08a2c")
                SVG.line(x1: 760, y1: y, x2: 760, y2: y + rowHeight - 2, stroke: "#999", width: 1)
            }
        }
    }
}
