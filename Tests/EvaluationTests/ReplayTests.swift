import Agents
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet
import TestSupport
import Testing

private let root = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
private let policyPath = root.appendingPathComponent("policies/cartpole-dqn.safetensors").path

@Suite struct ReplayTests {
    func recorded(attack: String?, epsilon: Double = 0.1) throws -> Replay {
        let policy = try Policy.load(contentsOf: URL(fileURLWithPath: policyPath))
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 3, seed: 5)
        let header = { (report: AttackReport?) in
            Replay.Header(
                policy: policyPath, policyHash: try! Replay.hash(of: URL(fileURLWithPath: policyPath)),
                environment: "CartPole-v1",
                attack: report?.attack, threatModel: report?.threatModel, seed: 5, episodes: 3, selection: .mode,
                copies: EpisodeRunner<Float>.defaultCopies, precision: .f32, gauntletVersion: Gauntlet.version)
        }
        guard let attack else {
            var runner = EpisodeRunner(policy: policy, environment: "CartPole-v1")
            runner.recordTraces = true
            return Replay(header: header(nil), outcomes: try runner.run(episodes: 3, seed: 5))
        }
        let (report, outcomes) = try evaluation.runRecorded(
            try AttackRegistry.standard.make(attack), epsilon: epsilon,
            clean: try evaluation.cleanEpisodes(), traces: true)
        return Replay(header: header(report), outcomes: outcomes)
    }

    /// Written, read back, and re-executed: every step is bit-identical.
    @Test func roundTripAndReexecutionAreBitIdentical() throws {
        for attack in [nil, "pgd", "sign"] as [String?] {
            let replay = try recorded(attack: attack)
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-replay-\(UUID()).safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            try replay.write(to: url)
            let loaded = try Replay.load(contentsOf: url)
            #expect(loaded.header == replay.header)
            #expect(loaded.firstDifference(from: replay) == nil)
            #expect(loaded.outcomes.map(\.episodeReturn) == replay.outcomes.map(\.episodeReturn))
            let rerun = try loaded.reexecute(policy: try Policy.load(contentsOf: URL(fileURLWithPath: policyPath)))
            #expect(rerun.firstDifference(from: loaded) == nil, "\(attack ?? "clean")")
            #expect(replay.outcomes.allSatisfy { $0.trace.count == $0.length })
        }
    }

    /// A replay that does not match names the first diverging episode and step.
    @Test func divergenceIsLocated() throws {
        let replay = try recorded(attack: "pgd")
        var tampered = replay
        tampered.outcomes[1].trace[7].reward += 1
        let difference = try #require(replay.firstDifference(from: tampered))
        #expect(difference.episode == 1 && difference.step == 7 && difference.what == "the reward")
        tampered = replay
        tampered.outcomes[2].trace[3].perceived[0] += 1e-6
        let other = try #require(replay.firstDifference(from: tampered))
        #expect(other.episode == 2 && other.step == 3 && other.what == "the perturbed observation")
    }

    @Test func offlineScreeningCountsFlipsOnRecordedObservations() throws {
        let replay = try recorded(attack: "pgd")
        let policy = try Policy.load(contentsOf: URL(fileURLWithPath: policyPath))
        let none = try replay.offlineFlipRate(policy: policy, attack: NoAttack(), threatModel: replay.header.threatModel!)
        #expect(none.flips == 0 && none.steps == replay.outcomes.reduce(0) { $0 + $1.length })
        let pgd = try replay.offlineFlipRate(policy: policy, attack: PGD(), threatModel: replay.header.threatModel!)
        #expect(pgd.flips > 0 && pgd.rate.contains(Double(pgd.flips) / Double(pgd.steps)))
    }

    @Test func malformedReplaysAreClearErrors() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-replay-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var file = try recorded(attack: nil).safetensors
        file.tensors["rewards"] = .init(shape: [2], float64: [1, 2])
        try file.write(to: url)
        #expect { try Replay.load(contentsOf: url) } throws: {
            ($0 as! SafetensorsError).description.contains("disagree in size")
        }
        file.metadata = [:]
        try file.write(to: url)
        #expect { try Replay.load(contentsOf: url) } throws: {
            ($0 as! SafetensorsError).description.contains("not a Gauntlet replay")
        }
    }
}

/// `evaluate --record FILE` from the library: one file per attack run (FILE-1, FILE-2, … for
/// each ε in turn), each saying what it holds, each re-executing bit for bit.
@Suite struct ReplayRecorderTests {
    @Test func recordsEachRunInItsOwnFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-recorder-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let policy = try Policy.load(contentsOf: URL(fileURLWithPath: policyPath))
        let evaluation = AttackEvaluation(policy: policy, environment: "CartPole-v1", episodes: 2, seed: 5)
        var recorder = try ReplayRecorder(
            base: directory.appendingPathComponent("eval.safetensors"), runs: 2, evaluation: evaluation, policyPath: policyPath)
        _ = try evaluation.study(attacks: [FGSM()], epsilons: [0.05, 0.1], record: { try recorder.record($0, outcomes: $1) })
        #expect(recorder.written.map(\.url.lastPathComponent) == ["eval-1.safetensors", "eval-2.safetensors"])
        #expect(
            recorder.written.map(\.epsilon) == [0.05, 0.1]
                && recorder.written.allSatisfy { $0.attack == "fgsm:random_start=auto" })
        for (url, _, epsilon) in recorder.written {
            let replay = try Replay.load(contentsOf: url)
            #expect(replay.header.threatModel?.epsilon == epsilon)
            #expect(try replay.verify(policy: policy).reproduced)
        }
        var single = try ReplayRecorder(
            base: directory.appendingPathComponent("clean.safetensors"), runs: 0, evaluation: evaluation, policyPath: policyPath)
        #expect(try single.record(nil, outcomes: []).lastPathComponent == "clean.safetensors")
    }
}
