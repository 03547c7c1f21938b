import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

@Suite struct ExplainAndTransferTests {
    static let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()

    func replay() throws -> (Replay, Policy<Float>) {
        let policy = try Policy.load(contentsOf: Self.root.appendingPathComponent("policies/cartpole-dqn.safetensors"))
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 2, seed: 3)
        let (report, outcomes) = try evaluation.runRecorded(
            PGD(), epsilon: 0.1, clean: try evaluation.cleanEpisodes(), traces: true)
        let header = Replay.Header(
            policy: "p", policyHash: "h", environment: "CartPole-v1", attack: report.attack, threatModel: report.threatModel,
            seed: 3, episodes: 2, selection: .mode, copies: EpisodeRunner<Float>.defaultCopies, precision: .f32,
            gauntletVersion: Gauntlet.version)
        return (Replay(header: header, outcomes: outcomes), policy)
    }

    /// Saliency reports the recorded perturbation and gradient × input of the clean action, and
    /// the environment rebuilt from the seed and recorded actions shows the recorded observation.
    @Test func saliencyAtARecordedStep() throws {
        let (replay, policy) = try replay()
        let step = 12
        let saliency = try Saliency.at(replay, episode: 1, step: step, policy: policy.converted(to: Double.self))
        let record = replay.outcomes[1].trace[step]
        #expect(saliency.perturbation == zip(record.perceived, record.observation).map { $0 - $1 })
        guard case .discrete(let a) = record.cleanAction else {
            Issue.record("discrete expected")
            return
        }
        let x = record.observation.map(Double.init)
        let reference = policy.converted(to: Double.self)
        let numeric = numericalGradient(of: { reference.outputs(Matrix(row: $0))[0, a] }, at: x)
        #expect(maximumRelativeError(saliency.gradientTimesInput, zip(x, numeric).map { $0 * $1 }) < 1e-6)
        let env = try Saliency.environment(replay, episode: 1, step: step)
        #expect(env.base.observation == record.observation)
        let svg = saliency.svg(frame: env.base.renderSVG())
        #expect(svg.contains("<svg x=\"0\" y=\"0\"") && svg.contains("s[3]"))
        #expect(throws: EnvironmentError.self) { try Saliency.at(replay, episode: 9, step: 0, policy: reference) }
    }

    /// On an image observation (MinAtar's Breakout, a random convolutional Q-network, PGD at
    /// 3/255): the saliency's gradient is the finite-difference gradient of the clean action's
    /// Q-value, and the picture draws heat maps per channel — the largest |gradient| in the
    /// darkest cell, where the environment's image layout puts it.
    @Test func saliencyOfAnImageObservation() throws {
        let conv = try Conv2d(inputChannels: 4, outputChannels: 4, kernelSize: 3, inputHeight: 10, inputWidth: 10)
        let network = try Sequential<Float>(
            modules: [.conv2d(conv), .activation(.tanh), .flatten, .linear(inputs: conv.outputSize, outputs: 3)],
            random: RandomStream(seed: 4))
        let policy = Policy(network: network, kind: .greedyQ, actionSpace: .discrete(3))
        let evaluation = AttackEvaluation(policy: policy, environment: "MinAtar/Breakout-v1", episodes: 1, seed: 2)
        let (report, outcomes) = try evaluation.runRecorded(
            PGD(), epsilon: 3.0 / 255, clean: try evaluation.cleanEpisodes(), traces: true)
        let header = Replay.Header(
            policy: "p", policyHash: "h", environment: "MinAtar/Breakout-v1", attack: report.attack,
            threatModel: report.threatModel, seed: 2, episodes: 1, selection: .mode, copies: EpisodeRunner<Float>.defaultCopies,
            precision: .f32, gauntletVersion: Gauntlet.version)
        let replay = Replay(header: header, outcomes: outcomes)
        let reference = policy.converted(to: Double.self)
        let saliency = try Saliency.at(replay, episode: 0, step: 2, policy: reference)
        let record = replay.outcomes[0].trace[2]
        guard case .discrete(let a) = record.cleanAction else { throw EnvironmentError("discrete expected") }
        let numeric = numericalGradient(of: { reference.outputs(Matrix(row: $0))[0, a] }, at: record.observation.map(Double.init))
        #expect(maximumRelativeError(saliency.gradient, numeric) < 1e-6)
        let env = try Saliency.environment(replay, episode: 0, step: 2)
        let image = try #require((env.base as? any ImageObservations)?.imageShape)
        #expect(image == ImageShape(channels: 4, height: 10, width: 10, channelsLast: false))
        let svg = saliency.svg(frame: env.base.renderSVG(), image: image)
        #expect(svg.contains("channel 3") && !svg.contains("s[3]"))
        // The darkest cell: channel c, row r, column q of the gradient panel (its left edge at
        // 620 + 160, cells of 16, the first panel's top at 72 + 18, rows of panels 188 apart).
        let strongest = saliency.gradient.indices.max { abs(saliency.gradient[$0]) < abs(saliency.gradient[$1]) }!
        let (c, r, q) = (strongest / 100, strongest % 100 / 10, strongest % 10)
        let x = String(format: "%.2f", 780 + 16 * Double(q))
        let y = String(format: "%.2f", 90 + 188 * Double(c) + 16 * Double(r))
        #expect(svg.contains(##"<rect x="\##(x)" y="\##(y)" width="16.00" height="16.00" fill="#252525""##), "\(c) \(r) \(q)")
    }

    /// The diagonal of the transfer matrix is the white-box PGD attack itself.
    @Test func transferMatrixDiagonalIsWhiteBox() throws {
        let dqn = try Policy.load(contentsOf: Self.root.appendingPathComponent("policies/cartpole-dqn.safetensors"))
        let ppo = try Policy.load(contentsOf: Self.root.appendingPathComponent("policies/cartpole-ppo.safetensors"))
        let matrix = try TransferMatrix.run(
            policies: [("dqn", dqn), ("ppo", ppo)], environment: "CartPole-v1", epsilon: 0.15, episodes: 2, seed: 0)
        let evaluation = AttackEvaluation(policy: dqn, environment: "CartPole-v1", episodes: 2, seed: 0)
        let whiteBox = try evaluation.run(PGD(), epsilon: 0.15, clean: try evaluation.cleanEpisodes()).attacked.meanReturn
        #expect(matrix.attackedReturns[0][0] == whiteBox)
        #expect(matrix.cleanReturns == [500, 500] && matrix.table.contains("| dqn |"))
    }
}
