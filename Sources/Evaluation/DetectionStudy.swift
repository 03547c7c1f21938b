import Agents
import Attacks
import Defenses
import Environments
import Foundation
import Linalg
import NeuralNet

/// How well perturbed observations can be detected, and what an attacker who knows the
/// detector does about it. States come from the evaluation's clean episodes, split by episode
/// into a training half (the learned detector fits clean vs attacked states there) and a test
/// half (every number is measured there):
/// - the learned detector and the margin test against the non-adaptive attack: ROC, AUC and
///   the detection rate at 5% false positives;
/// - the learned detector against `DetectorAwarePGD` (the same ε), with the share of test
///   states whose action each attack changes — so evasion and damage are read side by side.
public enum DetectionStudy {
    public struct Report: Codable, Equatable, Sendable {
        public var policy: String
        public var environment: String
        public var attack: String
        public var threatModel: ThreatModel
        public var trainingStates: Int
        public var testStates: Int
        public var learned: ROC
        public var margin: ROC
        public var adaptiveWeight: Double
        public var adaptiveLearned: ROC
        /// Test states whose greedy action the non-adaptive / adaptive attack changes.
        public var flipRate: Double
        public var adaptiveFlipRate: Double
    }

    /// Runs the study in the evaluation's precision (policy, attacks and detector alike).
    public static func run<S: BLASScalar>(
        _ evaluation: AttackEvaluation<S>, attack unprepared: any Attack, epsilon: Double, adaptiveWeight: Double,
        maximumStates: Int = 2000, policyName: String
    ) throws(EnvironmentError) -> Report {
        var runner = EpisodeRunner(policy: evaluation.policy, environment: evaluation.environment)
        runner.recordObservations = true
        let clean = try runner.run(episodes: evaluation.episodes, seed: evaluation.seed)
        guard clean.count >= 2 else {
            throw EnvironmentError("detection needs at least 2 episodes (one half trains the detector)")
        }
        let threatModel = try evaluation.threatModel(epsilon: epsilon, clean: clean)
        let half = clean.count / 2
        let random = RandomStream(seed: evaluation.seed).child("detection")
        func states(_ outcomes: ArraySlice<EpisodeOutcome>, _ stream: RandomStream) -> Matrix<S> {
            var rows = outcomes.flatMap(\.observations)
            if rows.count > maximumStates {
                let chosen = stream.permutation(rows.count).prefix(maximumStates).sorted()
                rows = chosen.map { rows[$0] }
            }
            return Matrix(rows.map { $0.map { S(Double($0)) } })
        }
        let policy = evaluation.policy
        let attack: any Attack
        do throws(AttackError) {
            attack = try unprepared.prepared(
                for: policy, environment: evaluation.environment, threatModel: threatModel, progress: evaluation.preparation)
        } catch { throw EnvironmentError(error.description) }
        let trainClean = states(clean[..<half], random.child("train"))
        let testClean = states(clean[half...], random.child("test"))
        let trainAttacked = attack.perturb(
            trainClean, policy: policy, threatModel: threatModel, random: random.child("attack-train")
        ).perturbed
        let testAttacked = attack.perturb(
            testClean, policy: policy, threatModel: threatModel, random: random.child("attack-test")
        ).perturbed
        let detector: LearnedDetector<S>
        do {
            detector = try LearnedDetector.train(clean: trainClean, attacked: trainAttacked, random: random.child("detector"))
        } catch {
            throw EnvironmentError(error.description)
        }
        let adaptive = DetectorAwarePGD(weight: adaptiveWeight).perturb(
            testClean, policy: policy, detector: detector, threatModel: threatModel,
            random: random.child("adaptive"))
        func flips(_ perturbed: Matrix<S>) -> Double {
            let before = policy.actions(testClean)
            let after = policy.actions(perturbed)
            return Double(zip(before, after).filter { $0 != $1 }.count) / Double(max(before.count, 1))
        }
        let cleanScores = detector.scores(testClean)
        let marginTest = MarginDetector(clean: trainClean, policy: policy)
        return Report(
            policy: policyName, environment: evaluation.environment, attack: attack.spec, threatModel: threatModel,
            trainingStates: trainClean.rows, testStates: testClean.rows,
            learned: ROC(negatives: cleanScores, positives: detector.scores(testAttacked)),
            margin: ROC(
                negatives: marginTest.scores(testClean, policy: policy),
                positives: marginTest.scores(testAttacked, policy: policy)),
            adaptiveWeight: adaptiveWeight, adaptiveLearned: ROC(negatives: cleanScores, positives: detector.scores(adaptive)),
            flipRate: flips(testAttacked), adaptiveFlipRate: flips(adaptive))
    }
}
