import Agents
import Attacks
import Defenses
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

private func qPolicy(seed: UInt64) throws -> Policy<Double> {
    Policy(
        network: try Sequential<Double>.mlp(sizes: [4, 10, 10, 3], activation: .relu, random: RandomStream(seed: seed)),
        kind: .greedyQ, actionSpace: .discrete(3), scaling: ObservationScaling(mean: [0, 0.1, 0, -0.1], std: [1, 0.5, 2, 1]))
}

private let bounds = BoxSpace(low: Array(repeating: -5, count: 4), high: Array(repeating: 5, count: 4))

/// A convolutional Q-network over 2×4×4 images in [0, 1] (a 2×2 convolution, ReLU, a Linear
/// layer): the image policies' interval bounds go through the same regularisers.
private func convolutionalQPolicy(seed: UInt64) throws -> Policy<Double> {
    let conv = try Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 2, inputHeight: 4, inputWidth: 4)
    let network = try Sequential<Double>(
        modules: [.conv2d(conv), .activation(.relu), .flatten, .linear(inputs: conv.outputSize, outputs: 3)],
        random: RandomStream(seed: seed))
    return Policy(network: network, kind: .greedyQ, actionSpace: .discrete(3))
}

private let imageBounds = BoxSpace(low: Array(repeating: 0, count: 32), high: Array(repeating: 1, count: 32))

/// The SA regulariser (κ 1, the full ε from the first step) on `observations`: its value,
/// parameter gradient and log σ gradient (a Gaussian's; empty otherwise), the clean outputs, and
/// the worst observations MAD finds from the same stream — where the regulariser took its gradient.
private func saRegularizerAndWorstObservations(
    _ policy: Policy<Double>, _ observations: Matrix<Double>, epsilon: Double, seed: UInt64, detachStd: Bool = false
)
    -> (value: Double, gradient: [Double], logStdGradient: [Double], clean: Matrix<Double>, worst: Matrix<Double>)
{
    var config = RobustTrainingConfig(method: "sa", epsilon: epsilon)
    config.kappa = 1
    config.epsilonStart = 0
    config.epsilonEnd = 0
    config[StateAdversarialRegularizer.detachStd] = detachStd
    var gradient = [Double](repeating: 0, count: policy.network.parameterCount)
    var logStdGradient = [Double](repeating: 0, count: policy.head.divergenceWeights?.count ?? 0)
    let regularizer = StateAdversarialRegularizer(config: config, bounds: bounds, random: RandomStream(seed: seed))
    let value = regularizer.regularize(
        observations, policy: policy, progress: 1, parameterGradient: &gradient, logStdGradient: &logStdGradient)[
            "robust/regularizer"]!
    let worst = MAD(steps: config.steps).perturb(
        observations, policy: policy, threatModel: ThreatModel(epsilon: epsilon, bounds: bounds),
        random: RandomStream(seed: seed)
    ).perturbed
    return (value, gradient, logStdGradient, policy.outputs(observations), worst)
}

/// `∂f/∂θ` at the network's parameters by central differences.
private func parameterGradientByFiniteDifferences(of f: (Sequential<Double>) -> Double, at network: Sequential<Double>)
    -> [Double]
{
    var probe = network
    return numericalGradient(
        of: { p in
            probe.parameters = p
            return f(probe)
        }, at: network.parameters)
}

@Suite struct RobustTrainingTests {
    /// The interval-bound regularisers (SA-DQN's convex relaxation and the RADIAL-style loss)
    /// add exactly their value's parameter gradient, checked by central finite differences — on
    /// an MLP and on a convolutional network over images.
    @Test(arguments: ["sa", "radial"], [false, true])
    func intervalRegularizerGradientsMatchFiniteDifferences(method: String, images: Bool) throws {
        var config = RobustTrainingConfig(method: method, epsilon: 0.05)
        config.bound = "ibp"
        config.kappa = 1
        config[StateAdversarialRegularizer.margin] = 10  // keep every hinge active, away from its kink
        config.epsilonStart = 0
        config.epsilonEnd = 0
        var policy = images ? try convolutionalQPolicy(seed: 5) : try qPolicy(seed: 5)
        let bounds = images ? imageBounds : bounds
        let observations =
            images
            ? Matrix(rows: 6, columns: 32, storage: (0..<192).map { Double(($0 * 7 + 3) % 11) / 10 })
            : randomMatrix(rows: 6, columns: 4, random: RandomStream(seed: 6))
        func regularizer() -> any RobustTraining {
            method == "sa"
                ? StateAdversarialRegularizer(config: config, bounds: bounds, random: RandomStream(seed: 1))
                : RadialLoss(config: config, bounds: bounds, random: RandomStream(seed: 1))
        }
        var gradient = [Double](repeating: 0, count: policy.network.parameterCount)
        var noLogStd: [Double] = []
        let value = regularizer().regularize(
            observations, policy: policy, progress: 1, parameterGradient: &gradient, logStdGradient: &noLogStd)[
                "robust/regularizer"]!
        #expect(value != 0)
        let parameters = policy.network.parameters
        // RADIAL holds the clean gaps Δ fixed (they weigh the loss, they are not trained through).
        let clean = policy.outputs(observations)
        let box = try IntervalCertificate(threatModel: ThreatModel(epsilon: 0.05, bounds: bounds)).inputBox(
            around: observations, policy: policy)
        func radialWithFixedGaps(_ network: Sequential<Double>) -> Double {
            let q = network.intervalBounds(box)
            var total = 0.0
            for r in 0..<clean.rows {
                let best = argmax(clean.row(r))
                for y in 0..<clean.columns where y != best {
                    let gap = clean[r, best] - clean[r, y]
                    total += gap * max(q.upper[r, y] - q.lower[r, best] + gap / 4, 0)
                }
            }
            return total / Double(clean.rows)
        }
        if method == "radial" { #expect(abs(value - radialWithFixedGaps(policy.network)) < 1e-9) }
        let numeric = numericalGradient(
            of: { p in
                policy.network.parameters = p
                if method == "radial" { return radialWithFixedGaps(policy.network) }
                var ignored = [Double](repeating: 0, count: p.count)
                return regularizer().regularize(
                    observations, policy: policy, progress: 1, parameterGradient: &ignored, logStdGradient: &noLogStd)[
                        "robust/regularizer"]!
            }, at: parameters)
        #expect(maximumRelativeError(gradient, numeric) < 1e-5, "\(method), images \(images)")
    }

    /// SA-PPO's (and SA-DDPG's) interval bound on the divergence (`robust_bound: ibp`): at least
    /// the divergence anywhere in the ball (MAD's worst point and 256 random points per
    /// observation), equal to the bound computed here from the network's interval bounds with
    /// π(·|s) fixed, and its parameter gradient (and a Gaussian's log σ gradient) equal to that
    /// bound's finite differences — for Gaussian, categorical and deterministic heads.
    @Test(arguments: [PolicyKind.gaussian, .categorical, .deterministic])
    func saIntervalDivergenceBoundIsSoundAndMatchesFiniteDifferences(kind: PolicyKind) throws {
        let outputs = kind == .categorical ? 3 : 2
        let network = try Sequential<Double>.mlp(
            sizes: [4, 8, 8, outputs], activation: .tanh, outputActivation: kind == .deterministic ? .tanh : .identity,
            random: RandomStream(seed: 21))
        func makePolicy(logStd: [Double]) -> Policy<Double> {
            Policy(
                network: network, kind: kind,
                actionSpace: kind == .categorical ? .discrete(3) : .box(BoxSpace(symmetric: [1, 1])),
                logStd: logStd, scaling: ObservationScaling(mean: [0, 0.1, 0, -0.1], std: [1, 0.5, 2, 1]))
        }
        let logStd = kind == .gaussian ? [-0.5, 0.2] : []
        var policy = makePolicy(logStd: logStd)
        let observations = randomMatrix(rows: 5, columns: 4, random: RandomStream(seed: 22))
        let epsilon = 0.05
        var config = RobustTrainingConfig(method: "sa", epsilon: epsilon)
        config.bound = "ibp"
        config.kappa = 1
        config.epsilonStart = 0
        config.epsilonEnd = 0
        var gradient = [Double](repeating: 0, count: policy.network.parameterCount)
        var logStdGradient = [Double](repeating: 0, count: logStd.count)
        let value = StateAdversarialRegularizer(config: config, bounds: bounds, random: RandomStream(seed: 1)).regularize(
            observations, policy: policy, progress: 1, parameterGradient: &gradient, logStdGradient: &logStdGradient)[
                "robust/regularizer"]!
        let clean = policy.outputs(observations)
        let model = ThreatModel(epsilon: epsilon, bounds: bounds)
        let box = try IntervalCertificate(threatModel: model).inputBox(around: observations, policy: policy)
        func bound(_ network: Sequential<Double>, logStd: [Double] = logStd) -> Double {
            let weights = makePolicy(logStd: logStd).head.divergenceWeights
            let z = network.intervalBounds(box)
            var total = 0.0
            for r in 0..<clean.rows {
                if let weights {
                    for j in 0..<outputs {
                        let far = max(z.upper[r, j] - clean[r, j], clean[r, j] - z.lower[r, j])
                        total += weights[j] * far * far / 2
                    }
                } else {
                    let p = softmax(Matrix(row: clean.row(r))).row(0)
                    total += Double.log(z.upper.row(r).map { Double.exp($0) }.reduce(0, +))
                    for j in 0..<outputs { total += p[j] * Double.log(p[j]) - p[j] * z.lower[r, j] }
                }
            }
            return total / Double(clean.rows)
        }
        #expect(abs(value - bound(policy.network)) < 1e-12)
        let divergence = Objective.divergence(policy, clean: clean)
        let worst = MAD(steps: 20).perturb(observations, policy: policy, threatModel: model, random: RandomStream(seed: 2))
        var largest = divergence.evaluate(policy.outputs(worst.perturbed)).values.reduce(0, +) / Double(clean.rows)
        let random = RandomStream(seed: 3)
        for _ in 0..<256 {
            let sample = model.randomPoint(around: observations, random: random)
            largest = max(largest, divergence.evaluate(policy.outputs(sample)).values.reduce(0, +) / Double(clean.rows))
        }
        #expect(largest > 0 && value >= largest, "\(kind): bound \(value) below the divergence \(largest) it bounds")
        let numeric = numericalGradient(
            of: { p in
                policy.network.parameters = p
                return bound(policy.network)
            }, at: policy.network.parameters)
        #expect(maximumRelativeError(gradient, numeric) < 1e-5, "\(kind)")
        if kind == .gaussian {
            let network = policy.network
            let numericLogStd = numericalGradient(of: { bound(network, logStd: $0) }, at: logStd)
            #expect(logStdGradient.allSatisfy { $0 < 0 } && maximumRelativeError(logStdGradient, numericLogStd) < 1e-5)
        }
    }

    /// SA-PPO's regulariser through MAD on a Gaussian policy: the gradient reaches log σ as
    /// SA-PPO's does (`robust_ppo_detach_stdev: false`), equal to finite differences of the KL at
    /// the worst observations held fixed; `robust_detach_std` keeps it off log σ and leaves the
    /// network's gradient as it was.
    @Test func saPPORegularizerTrainsTheGaussianLogStd() throws {
        let network = try Sequential<Double>.mlp(sizes: [4, 8, 2], activation: .tanh, random: RandomStream(seed: 11))
        let logStd = [-0.7, 0.1]
        func gaussian(logStd: [Double]) -> Policy<Double> {
            Policy(network: network, kind: .gaussian, actionSpace: .box(BoxSpace(symmetric: [1, 1])), logStd: logStd)
        }
        let observations = randomMatrix(rows: 5, columns: 4, random: RandomStream(seed: 12))
        let trained = saRegularizerAndWorstObservations(gaussian(logStd: logStd), observations, epsilon: 0.2, seed: 13)
        func kl(logStd: [Double]) -> Double {
            let q = network(trained.worst)
            var total = 0.0
            for r in 0..<q.rows {
                for j in 0..<q.columns {
                    let d = q[r, j] - trained.clean[r, j]
                    total += d * d / (2 * Double.exp(2 * logStd[j]))
                }
            }
            return total / Double(q.rows)
        }
        #expect(abs(trained.value - kl(logStd: logStd)) < 1e-12)
        #expect(trained.logStdGradient.allSatisfy { $0 < 0 })
        #expect(maximumRelativeError(trained.logStdGradient, numericalGradient(of: { kl(logStd: $0) }, at: logStd)) < 1e-6)
        let detached = saRegularizerAndWorstObservations(
            gaussian(logStd: logStd), observations, epsilon: 0.2, seed: 13, detachStd: true)
        #expect(detached.logStdGradient == [0, 0] && detached.gradient == trained.gradient)
    }

    /// The SA-DQN hinge through PGD and SA-PPO's KL add the gradient at the worst observation
    /// PGD found (Danskin): equal to finite differences of the same objective with that
    /// observation held fixed.
    @Test func pgdRegularizerUsesTheGradientAtTheWorstObservation() throws {
        let categorical = Policy(
            network: try Sequential<Double>.mlp(sizes: [4, 8, 3], activation: .tanh, random: RandomStream(seed: 2)),
            kind: .categorical, actionSpace: .discrete(3))
        let observations = randomMatrix(rows: 5, columns: 4, random: RandomStream(seed: 3))
        let (value, gradient, _, clean, worst) = saRegularizerAndWorstObservations(
            categorical, observations, epsilon: 0.1, seed: 4)
        func kl(_ network: Sequential<Double>) -> Double {
            var policy = categorical
            policy.network = network
            let q = policy.outputs(worst)
            var total = 0.0
            for r in 0..<q.rows {
                let pMax = clean.row(r).max()!
                let qMax = q.row(r).max()!
                let pz = clean.row(r).map { Double.exp($0 - pMax) }.reduce(0, +)
                let qz = q.row(r).map { Double.exp($0 - qMax) }.reduce(0, +)
                for j in 0..<q.columns {
                    let p = Double.exp(clean[r, j] - pMax) / pz
                    total += p * ((clean[r, j] - pMax - Double.log(pz)) - (q[r, j] - qMax - Double.log(qz)))
                }
            }
            return total / Double(q.rows)
        }
        #expect(abs(value - kl(categorical.network)) < 1e-9)
        #expect(maximumRelativeError(gradient, parameterGradientByFiniteDifferences(of: kl, at: categorical.network)) < 1e-5)
        #expect(value > 0)
    }

    /// SA-DDPG's regulariser on a deterministic actor (TD3/DDPG with `robust_method: sa`):
    /// `mean ‖μ(ŝ) − μ(s)‖² / 2` at the worst observations MAD finds, its gradient taken with
    /// those observations and the clean actions held fixed — equal to finite differences.
    @Test func deterministicActorRegularizerMatchesFiniteDifferences() throws {
        let actor = Policy(
            network: try Sequential<Double>.mlp(
                sizes: [4, 8, 2], activation: .relu, outputActivation: .tanh, random: RandomStream(seed: 7)),
            kind: .deterministic, actionSpace: .box(BoxSpace(low: [-2, -2], high: [2, 2])))
        let observations = randomMatrix(rows: 5, columns: 4, random: RandomStream(seed: 8))
        let (value, gradient, _, clean, worst) = saRegularizerAndWorstObservations(actor, observations, epsilon: 0.2, seed: 9)
        func halfSquaredChange(_ network: Sequential<Double>) -> Double {
            let moved = network(worst)
            return zip(moved.storage, clean.storage).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) / 2 }
                / Double(observations.rows)
        }
        #expect(value > 0)
        #expect(abs(value - halfSquaredChange(actor.network)) < 1e-12)
        #expect(
            maximumRelativeError(gradient, parameterGradientByFiniteDifferences(of: halfSquaredChange, at: actor.network)) < 1e-5)
    }

    /// TD3/DDPG with `robust_method: sa` add the regulariser to their actor updates: its value is
    /// reported, and the actor ends elsewhere than in the same run without it; with
    /// `adversarial` the actor learns from attacked states.
    @Test func ddpgWithSAOrAdversarialTrainingTrainsItsActorRobustly() throws {
        let plainYAML = """
            env: Pendulum-v1
            algorithm: ddpg
            n_timesteps: 600
            net_arch: [16]
            learning_starts: 200
            batch_size: 16
            train_freq: episode
            gradient_steps: -1
            """
        func train(_ yaml: String) throws -> TD3<Float> {
            let parsed = try TrainingConfig(yaml: yaml, file: "ddpg.yaml", robustMethods: Toolkit.standard.robustMethods)
            guard case .td3(let config) = parsed.algorithm else { throw TrainingError("not a TD3 config") }
            let learner = try TD3<Float>(
                config: config, environment: "Pendulum-v1", seed: 3, components: Toolkit.standard.training)
            while learner.steps < learner.totalSteps { try learner.advance() }
            return learner
        }
        let plain = try train(plainYAML)
        let robust = try train(
            plainYAML + "\nrobust_method: sa\nrobust_eps: 0.1\nrobust_eps_start: 0\nrobust_steps: 2\nrobust_kappa: 1\n")
        #expect(plain.diagnostics["robust/regularizer"] == nil)
        #expect((robust.diagnostics["robust/regularizer"] ?? 0) > 0)
        #expect(robust.actor.parameters != plain.actor.parameters)
        // Adversarial training changes only what the actor acts on in its update: dropping the
        // attacked states (even after drawing them) leaves the actor equal to the plain run's.
        let adversarial = try train(
            plainYAML
                + "\nrobust_method: adversarial\nrobust_eps: 0.1\nrobust_eps_start: 0\nrobust_steps: 2\nrobust_fraction: 0.5\n")
        #expect(adversarial.diagnostics["robust/eps"] == 0.1)
        #expect(adversarial.actor.parameters != plain.actor.parameters)
    }

    /// Adversarial training replaces about `fraction` of the rows, each within the ball, and
    /// nothing before ε's ramp starts.
    @Test func adversarialTrainingPerturbsAFractionWithinTheBall() throws {
        var config = RobustTrainingConfig(method: "adversarial", epsilon: 0.2)
        config.fraction = 0.5
        let training = try AdversarialTraining(config, bounds: bounds, random: RandomStream(seed: 9))
        let policy = try qPolicy(seed: 1)
        let observations = randomMatrix(rows: 400, columns: 4, random: RandomStream(seed: 10))
        #expect(training.perturb(observations, policy: policy, progress: 0.05) == observations)
        let perturbed = training.perturb(observations, policy: policy, progress: 1)
        let changed = (0..<400).filter { perturbed.row($0) != observations.row($0) }.count
        #expect((160...240).contains(changed))
        #expect(zip(perturbed.storage, observations.storage).allSatisfy { abs($0 - $1) <= 0.2 + 1e-12 })
        #expect(config.epsilon(atProgress: 0.3) == 0.2 * (0.3 - 0.1) / 0.4)
    }

    /// With a list of attacks each attacked row draws one: under `[sign, uniform]` some rows sit
    /// on a corner of the ball (every coordinate moved by exactly ε) and the others inside it.
    @Test func adversarialTrainingWithSeveralAttacksUsesEach() throws {
        var config = RobustTrainingConfig(method: "adversarial", epsilon: 0.2)
        config.fraction = 1
        config.attacks = ["sign", "uniform"]
        let training = try AdversarialTraining(config, bounds: bounds, random: RandomStream(seed: 9))
        let observations = randomMatrix(rows: 400, columns: 4, random: RandomStream(seed: 10))
        let perturbed = training.perturb(observations, policy: try qPolicy(seed: 1), progress: 1)
        let corners = (0..<400).filter { r in
            (0..<4).allSatisfy { abs(abs(perturbed[r, $0] - observations[r, $0]) - 0.2) < 1e-12 }
        }.count
        #expect((160...240).contains(corners), "\(corners) of 400 rows on a corner")
        #expect(zip(perturbed.storage, observations.storage).allSatisfy { abs($0 - $1) <= 0.2 + 1e-12 })
    }

    /// In normalized units (SA-PPO's and ATLA's ε on MuJoCo) the ball is ε times the learner's
    /// current normalisation std per dimension: a random sign moves each coordinate by exactly
    /// ε·σ_j. The config refuses it for a learner that does not normalise.
    @Test func normalizedEpsilonScalesByTheLearnersNormalisation() throws {
        var config = RobustTrainingConfig(method: "adversarial", epsilon: 0.2)
        config.fraction = 1
        config.attacks = ["sign"]
        config.epsilonUnits = "normalized"
        let training = try AdversarialTraining(config, bounds: bounds, random: RandomStream(seed: 9))
        var policy = try qPolicy(seed: 1)
        let std: [Double] = [3, 0.5, 1, 0.1]
        policy.scaling = ObservationScaling(mean: [0, 0, 0, 0], std: std, clip: 10)
        let observations = randomMatrix(rows: 50, columns: 4, random: RandomStream(seed: 10), scale: 0.1)
        let perturbed = training.perturb(observations, policy: policy, progress: 1)
        for r in 0..<50 {
            for j in 0..<4 { #expect(abs(abs(perturbed[r, j] - observations[r, j]) - 0.2 * std[j]) < 1e-12) }
        }
        for (yaml, expected) in [
            ("normalize: true\n", nil),
            ("", "robust_eps_units: normalized measures ε by the observation normalisation: set normalize: true"),
        ] {
            let text =
                "env: Pendulum-v1\nalgorithm: ppo\n\(yaml)robust_method: sa\nrobust_eps: 0.1\nrobust_eps_units: normalized\n"
            do {
                let parsed = try TrainingConfig(yaml: text, file: "c.yaml", robustMethods: Toolkit.standard.robustMethods)
                #expect(expected == nil && parsed.robust?.epsilonUnits == "normalized")
            } catch {
                #expect(expected.map { error.description.contains($0) } == true, "\(error.description)")
            }
        }
    }

    /// Every name a config may give `robust_attack` makes an attack (PGD and MAD with the
    /// config's steps).
    @Test func everyTrainingAttackNameMakesAnAttack() throws {
        var config = RobustTrainingConfig(method: "adversarial", epsilon: 0.2)
        config.attacks = AttackRegistry.standard.trainingNames
        config.steps = 3
        let training = try AdversarialTraining(config, bounds: bounds, random: RandomStream(seed: 9))
        #expect(
            training.attacks.map(\.spec) == [
                "uniform", "gaussian:sigma=0.5", "sign", "fgsm:random_start=auto",
                "pgd:alpha_ratio=0.25,loss=auto,random_start=1,restarts=1,steps=3", "mad:alpha_ratio=0.25,restarts=1,steps=3",
            ])
    }
}

/// Robust training does what it optimises, in a small budget: SA-DQN with interval bounds
/// certifies many more visited states than the same DQN trained without it (measured here:
/// 52% vs 8% at ε = 0.01 with seed 3; seeds 1 and 2 give 10% vs 3% and 8% vs 1%).
@Suite(.serialized) struct RobustTrainingOutcomeTests {
    static let dqn = """
        env: CartPole-v1
        algorithm: dqn
        n_timesteps: 8000
        net_arch: [64, 64]
        learning_rate: 1e-3
        batch_size: 64
        buffer_size: 20000
        learning_starts: 500
        target_update_interval: 250
        train_freq: 4
        gradient_steps: 1
        exploration_fraction: 0.2
        exploration_final_eps: 0.02

        """

    func certifiedRate(_ yaml: String) throws -> Double {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-robust-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try TrainingRun<Float>(
            config: TrainingConfig(yaml: yaml, file: "robust.yaml", robustMethods: Toolkit.standard.robustMethods),
            directory: directory, seed: 3, components: Toolkit.standard.training)
        let summary = try #require(try run.run())
        let policy = try Policy.load(contentsOf: URL(fileURLWithPath: summary.policy))
        let report = try Certification.run(
            AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 5, seed: 0), epsilon: 0.01,
            methods: [.ibp], policyName: "trained")
        return try #require(report.ibp?.rate)
    }

    /// The shipped Acrobot SA-DQN (PGD bound, ε 0.3) keeps far more than the vanilla DQN under
    /// PGD at ε 0.3 with the same clean return (measured: −118 vs −226 over these episodes).
    @Test func shippedRobustPolicyBeatsTheVanillaOneUnderPGD() throws {
        let policies = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("policies")
        func returns(_ name: String) throws -> (clean: Double, attacked: Double) {
            let policy = try Policy.load(contentsOf: policies.appendingPathComponent("\(name).safetensors"))
            let evaluation = AttackEvaluation(policy: policy, environment: "Acrobot-v1", episodes: 5, seed: 0)
            let report = try evaluation.run(PGD(), epsilon: 0.3, clean: try evaluation.cleanEpisodes())
            return (report.clean.meanReturn, report.attacked.meanReturn)
        }
        let vanilla = try returns("acrobot-dqn")
        let robust = try returns("acrobot-sa-dqn-pgd")
        #expect(abs(robust.clean - vanilla.clean) < 10)
        #expect(robust.attacked > vanilla.attacked + 50, "robust \(robust.attacked), vanilla \(vanilla.attacked)")
    }

    @Test func saDQNCertifiesMoreStatesThanVanillaDQN() throws {
        let vanilla = try certifiedRate(Self.dqn)
        let robust = try certifiedRate(Self.dqn + "robust_method: sa\nrobust_bound: ibp\nrobust_eps: 0.1\nrobust_kappa: 0.01\n")
        #expect(robust > 0.2 && robust > 2.5 * vanilla, "SA-DQN certifies \(robust), vanilla \(vanilla)")
    }
}
