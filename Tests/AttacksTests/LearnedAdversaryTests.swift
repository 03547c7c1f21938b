import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import TestSupport
import Testing

@Suite(.serialized) struct LearnedAdversaryTests {
    static let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
    static let victim = root.appendingPathComponent("policies/cartpole-ppo.safetensors").path

    /// With a zero action the victim sees clean observations: the adversary's episode is the
    /// victim's clean episode with negated rewards; any action stays inside the ball.
    @Test func adversaryEnvironmentNegatesTheVictimsReward() throws {
        let env = try Toolkit.standard.environments.make("adversary:env=CartPole-v1,victim=\(Self.victim),eps=0.1")
        #expect(env.maxEpisodeSteps == 500 && env.base.actionSpace.dimension == 4)
        env.reset(seed: 4)
        var adversaryReturn = 0.0
        while true {
            let step = env.step(.continuous([0, 0, 0, 0]))
            adversaryReturn += step.reward
            if step.terminated || step.truncated { break }
        }
        let clean = try EpisodeRunner(
            policy: Policy.load(contentsOf: URL(fileURLWithPath: Self.victim)), environment: "CartPole-v1"
        )
        .run(episodes: 1, seed: 4)
        #expect(adversaryReturn == -clean[0].episodeReturn)

        let model = ThreatModel(epsilon: 0.1, bounds: env.base.observationSpace)
        let clean2 = Matrix<Float>(row: [0.1, -0.2, 0.05, 0.3])
        let perturbed = AdversaryEnvironment.perturb(clean2, direction: Matrix(row: [3, -0.5, 1, -1]), threatModel: model)
        #expect(perturbed.row(0).enumerated().allSatisfy { abs($1 - clean2[0, $0]) <= 0.1 + 1e-6 })
        #expect(abs(perturbed[0, 0] - 0.2) < 1e-6 && abs(perturbed[0, 1] - -0.25) < 1e-6)
    }

    /// `precision=f64` makes the victim act in Double (an f64 adversary run stays f64), and
    /// `trainingConfig` writes it into the environment id of an f64 run only.
    @Test func adversaryEnvironmentsRunTheVictimInTheirPrecision() throws {
        for precision in Precision.allCases {
            let config = try LearnedAdversary.trainingConfig(
                victim: Self.victim, environment: "CartPole-v1", epsilon: 0.1, steps: 1000, seed: 0, precision: precision)
            #expect(config.environment.hasSuffix("precision=f64") == (precision == .f64))
            let env = try Toolkit.standard.environments.make(config.environment)
            let adversary = try #require(env.base as? AdversaryEnvironment)
            switch (adversary.victimPolicy, precision) {
            case (.float, .f32), (.double, .f64): break
            default: Issue.record("the \(precision) environment's victim runs in the other precision")
            }
        }
        #expect {
            try Toolkit.standard.environments.make("adversary:env=CartPole-v1,victim=\(Self.victim),eps=0.1,precision=f16")
        } throws: {
            "\($0)".contains("precision must be f32 or f64")
        }
    }

    @Test func badAdversaryIdsAreClearErrors() {
        for (id, message) in [
            ("adversary:env=CartPole-v1,eps=0.1", "adversary:env=ID,victim=PATH,eps=E"),
            ("adversary:env=CartPole-v1,victim=/none.safetensors,eps=0.1", "cannot read"),
            ("adversary:env=Pendulum-v1,victim=\(Self.victim),eps=0.1", "expects 4 observation values"),
            ("adversary:env=CartPole-v1,victim=\(Self.victim),eps=0.1,extra=1", "unknown parameter 'extra'"),
            ("adversary:env=CartPole-v1,victim=\(Self.victim),eps=0.1,units=std", "units must be raw or normalized"),
            ("adversary:env=CartPole-v1,victim=\(Self.victim),eps=0.1,units=normalized", "needs a policy that normalises"),
        ] {
            #expect { try Toolkit.standard.environments.make(id) } throws: {
                ($0 as! EnvironmentError).description.contains(message)
            }
        }
    }

    /// A (briefly) trained adversary is a policy file that the attack loads and applies inside
    /// the threat model without querying the victim.
    @Test func trainedAdversaryIsAnAttack() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-adversary-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try LearnedAdversary.trainingConfig(
            victim: Self.victim, environment: "CartPole-v1", epsilon: 0.2, steps: 2048, seed: 1)
        let summary = try #require(
            try TrainingRun<Float>(config: config, directory: directory, seed: 1, components: Toolkit.standard.training).run())
        let attack = try AttackRegistry.standard.make("learned:adversary=\(summary.policy)")
        // What the training recorded becomes the attack's own expectation: the victim's return.
        let expected = try #require(attack.expectedEffect)
        #expect(expected.epsilon == 0.2 && expected.attackedReturn == -summary.meanReturnLast100)
        let victim = try Policy.load(contentsOf: URL(fileURLWithPath: Self.victim))
        try attack.validate(for: victim)
        let observations = randomMatrix(rows: 10, columns: 4, random: RandomStream(seed: 2), scale: 0.1).converted(to: Float.self)
        let model = ThreatModel(epsilon: 0.2, bounds: try Registry.make("CartPole-v1").base.observationSpace)
        let result = attack.perturb(observations, policy: victim, threatModel: model, random: RandomStream(seed: 3))
        #expect(result.queries == 0)
        #expect(model.distance(result.perturbed, from: observations).allSatisfy { $0 <= 0.2 + 1e-6 })
        #expect(result.perturbed != observations)
        #expect { try AttackRegistry.standard.make("learned:adversary=\(Self.victim)") } throws: {
            ($0 as! AttackError).description.contains("not an adversary")
        }
        // Its training is the attack's preparation; PA-AD refuses it (its outputs are not action directions).
        #expect(attack.preparation?.environmentSteps == 2048)
        #expect { try AttackRegistry.standard.make("paad:adversary=\(summary.policy)") } throws: {
            "\($0)".contains("was trained for the 'learned' attack (use --attack learned:adversary=")
        }
    }

    /// In normalized units (MuJoCo) the adversary's ball is the victim's own normalisation, its
    /// PPO normalises observations and rewards, and the attack refuses to run in other units.
    @Test func normalizedUnitsAdversary() throws {
        let victimPath = Self.root.appendingPathComponent("policies/invertedpendulum-ppo.safetensors").path
        let victim = try Policy.load(contentsOf: URL(fileURLWithPath: victimPath))
        let config = try LearnedAdversary.trainingConfig(
            victim: victimPath, environment: "InvertedPendulum-v5", epsilon: 0.1, units: .normalized, steps: 1024, seed: 1)
        #expect(config.environment.contains(",units=normalized"))
        #expect(config.settings["normalize"] == .bool(true) && config.settings["normalize_reward"] == .bool(true))
        let env = try #require(try Toolkit.standard.environments.make(config.environment).base as? AdversaryEnvironment)
        let units = try victim.normalizedUnits()
        #expect(env.threatModel.units == .normalized && env.threatModel.scale == units)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-adversary-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let summary = try #require(
            try TrainingRun<Float>(config: config, directory: directory, seed: 1, components: Toolkit.standard.training).run())
        let attack = try AttackRegistry.standard.make("learned:adversary=\(summary.policy)")
        for units in [ThreatModel.Units.normalized, .raw] {
            let evaluation = AttackEvaluation(
                policy: victim, environment: "InvertedPendulum-v5", episodes: 1, seed: 0, units: units)
            let clean = try evaluation.cleanEpisodes()
            if units == .normalized {
                #expect(try evaluation.run(attack, epsilon: 0.1, clean: clean).attacked.returns.count == 1)
            } else {
                #expect { try evaluation.run(attack, epsilon: 0.1, clean: clean) } throws: {
                    ($0 as! EnvironmentError).description.contains("trained with ε in normalized units")
                }
            }
        }
    }
}
