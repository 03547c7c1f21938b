import Agents
import Attacks
import Foundation
import Linalg
import NeuralNet

/// Writes an evaluation's runs as replay files, as `gauntlet evaluate --record FILE` does: FILE
/// for a single run (or the clean episodes when there is no attack), FILE-1, FILE-2, … for
/// several — each ε in turn, its attacks in order — and remembers what each file holds.
public struct ReplayRecorder {
    public let base: URL
    /// Attack runs the evaluation will make (attacks × ε).
    public let runs: Int
    /// The header every file shares (policy, seeds, selection, precision); attack and threat
    /// model are each run's.
    public let header: Replay.Header
    /// The files written so far, with the attack and ε each holds (nil: the clean episodes).
    public private(set) var written: [(url: URL, attack: String?, epsilon: Double?)] = []

    /// A recorder for the evaluation of the policy file at `policyPath`.
    public init<S: BLASScalar>(base: URL, runs: Int, evaluation: AttackEvaluation<S>, policyPath: String) throws(PolicyFileError)
    {
        self.base = base
        self.runs = runs
        header = Replay.Header(
            policy: policyPath, policyHash: try Replay.hash(of: URL(fileURLWithPath: policyPath)),
            environment: evaluation.environment,
            attack: nil, threatModel: nil, seed: evaluation.seed, episodes: evaluation.episodes, selection: evaluation.selection,
            exploration: evaluation.recordedExploration,
            copies: EpisodeRunner<S>.defaultCopies, precision: Precision(of: S.self), gauntletVersion: Agents.Gauntlet.version)
    }

    /// Where the next run goes.
    var nextURL: URL {
        guard runs > 1 else { return base }
        let stem = base.deletingPathExtension().lastPathComponent
        let ext = base.pathExtension.isEmpty ? "safetensors" : base.pathExtension
        return base.deletingLastPathComponent().appendingPathComponent("\(stem)-\(written.count + 1).\(ext)")
    }

    /// Writes one run (`report` nil: the clean episodes) and returns its file.
    @discardableResult
    public mutating func record(_ report: AttackReport?, outcomes: [EpisodeOutcome]) throws(SafetensorsError) -> URL {
        var header = header
        header.attack = report?.attack
        header.attackPreparation = report?.savedPreparation
        header.threatModel = report?.threatModel
        let url = nextURL
        try Replay(header: header, outcomes: outcomes).write(to: url)
        written.append((url, report?.attack, report?.threatModel.epsilon))
        return url
    }
}
