import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
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
