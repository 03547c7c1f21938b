import Agents
import Environments
import Foundation
import Linalg

/// Which observation dimensions a decision and an attack rest on, at one recorded step: the
/// gradient of the clean action's output (Simonyan et al. 2014's saliency) and gradient × input,
/// and the attack's perturbation, per dimension.
public struct Saliency: Sendable, Encodable {
    public var episode: Int
    public var step: Int
    public var observation: [Float]
    public var perturbation: [Float]
    /// `s_j · ∂z_a/∂s_j` for the clean action a (its Q-value, logit or, for continuous
    /// policies, the sum of the outputs).
    public var gradientTimesInput: [Double]
    /// `∂z_a/∂s_j` itself: for binary images, where most inputs are 0, gradient × input hides
    /// what the decision would react to.
    public var gradient: [Double]
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
        let gradient = Self.gradient(of: policy, at: record.observation, action: record.cleanAction)
        return Saliency(
            episode: episode, step: step, observation: record.observation,
            perturbation: zip(record.perceived, record.observation).map { $0 - $1 },
            gradientTimesInput: zip(record.observation, gradient).map { Double($0) * $1 }, gradient: gradient,
            cleanAction: record.cleanAction, action: record.action)
    }

    /// `∂z_a/∂s` at observation `s` for action `a`: its output (Q-value or logit), or for a
    /// continuous action the sum of the outputs.
    public static func gradient<S: BLASScalar>(of policy: Policy<S>, at observation: [Float], action: Action) -> [Double] {
        let x = Matrix<S>(row: observation.map { S($0) })
        var outputGradient = Matrix<S>(rows: 1, columns: policy.outputDimension)
        if case .discrete(let a) = action {
            outputGradient[0, a] = 1
        } else {
            for j in 0..<outputGradient.columns { outputGradient[0, j] = 1 }
        }
        let gradient = policy.inputGradient(x, outputGradient: outputGradient)
        return (0..<x.columns).map { Double(gradient[0, $0]) }
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
    /// per observation dimension — or, for an image observation (`image`), next to heat maps of
    /// the perturbation (blue negative, red positive) and of |gradient| per channel.
    public func svg(frame: String, image: ImageShape? = nil) -> String {
        if let image, image.count == observation.count { return imageSVG(frame: frame, image: image) }
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

    /// Heat maps, one row of two a channel: δ on a diverging scale, |∂z/∂s| from white to dark.
    func imageSVG(frame: String, image: ImageShape) -> String {
        let cell = Double(max(2, min(16, 160 / max(image.height, image.width))))
        let (panelWidth, panelHeight) = (cell * Double(image.width), cell * Double(image.height))
        let maxPerturbation = max(perturbation.map { Double(abs($0)) }.max() ?? 0, 1e-12)
        let maxGradient = max(gradient.map(abs).max() ?? 0, 1e-12)
        let rowHeight = panelHeight + 28
        let height = max(400, Int(90 + rowHeight * Double(image.channels)))
        let inner = frame.replacingOccurrences(of: "<svg ", with: "<svg x=\"0\" y=\"0\" ")
        /// White to `#b2182b` (positive) or `#2166ac` (negative) with |t| ∈ [0, 1].
        func shade(_ t: Double, positive: String = "b2182b", negative: String = "2166ac") -> String {
            let target = t >= 0 ? positive : negative
            let mixed = [0, 2, 4].map { offset -> Int in
                let c = Double(Int(target.dropFirst(offset).prefix(2), radix: 16)!)
                return Int((255 - (255 - c) * min(abs(t), 1)).rounded())
            }
            return String(format: "#%02x%02x%02x", mixed[0], mixed[1], mixed[2])
        }
        return SVG.document(width: 1000, height: height) {
            inner
            SVG.text(x: 600, y: 24, "episode \(episode), step \(step): clean action \(cleanAction), taken \(action)")
            SVG.text(x: 600, y: 44, "left: perturbation δ, max |δ| \(String(format: "%.3g", maxPerturbation))", size: 11)
            SVG.text(x: 600, y: 58, "right: |gradient| of the clean action, max \(String(format: "%.3g", maxGradient))", size: 11)
            for channel in 0..<image.channels {
                let top = 72 + Double(channel) * rowHeight
                SVG.text(x: 600, y: top + 12, "channel \(channel)", size: 11)
                for (panel, left) in [(0, 600.0), (1, 620.0 + panelWidth)] {
                    for row in 0..<image.height {
                        for column in 0..<image.width {
                            let k = image.index(channel: channel, row: row, column: column)
                            let fill =
                                panel == 0
                                ? shade(Double(perturbation[k]) / maxPerturbation)
                                : shade(abs(gradient[k]) / maxGradient, positive: "252525")
                            SVG.rect(
                                x: left + Double(column) * cell, y: top + 18 + Double(row) * cell, width: cell, height: cell,
                                fill: fill)
                        }
                    }
                    SVG.rect(x: left, y: top + 18, width: panelWidth, height: panelHeight, fill: "none", stroke: "#888")
                }
            }
        }
    }
}
