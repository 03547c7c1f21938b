import Agents
import Dispatch
import Evaluation
import Foundation
import Synchronization

/// A one-line progress display on standard error, redrawn at most ten times a second on a
/// terminal; when standard error is a file or pipe (nohup, CI, Slurm logs), a plain line every
/// two seconds instead. Safe to update from several threads (sweep workers).
final class ProgressBar: Sendable {
    let label: String
    private let state = Mutex<(lastDraw: UInt64, drawn: Bool)>((0, false))
    private let terminal = isatty(2) != 0

    init(label: String) { self.label = label }

    /// Draws `fraction` (clamped to 0…1) and `detail` if the last line is old enough, or always
    /// when `fraction` reaches 1.
    func update(fraction: Double, _ detail: () -> String) {
        let now = DispatchTime.now().uptimeNanoseconds
        let interval: UInt64 = terminal ? 100_000_000 : 2_000_000_000
        let fraction = min(1, max(0, fraction.isFinite ? fraction : 0))
        state.withLock { state in
            guard now - state.lastDraw > interval || fraction >= 1 else { return }
            state.lastDraw = now
            let width = 24
            let filled = min(width, Int(fraction * Double(width)))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = String(format: "%@ %@ %3.0f%% ", label, bar, fraction * 100) + detail()
            FileHandle.standardError.write(Data((terminal ? "\r" + line + " " : line + "\n").utf8))
            state.drawn = terminal
        }
    }

    /// A training run's progress (a learner may overshoot its total by the last rollout's
    /// remainder; the bar stops at 100%).
    func update(_ p: TrainingProgress) {
        update(fraction: Double(p.steps) / Double(max(p.totalSteps, 1))) {
            let meanReturn = p.meanReturn.isNaN ? "—" : String(format: "%.1f", p.meanReturn)
            return String(
                format: "%d/%d steps, %d episodes, return %@, %.0f steps/s", p.steps, p.totalSteps, p.episodes, meanReturn,
                p.stepsPerSecond)
        }
    }

    /// An evaluation's progress: episodes finished and steps taken.
    func update(_ p: EpisodeProgress) {
        update(fraction: Double(p.finishedEpisodes) / Double(max(p.episodes, 1))) {
            "\(p.finishedEpisodes)/\(p.episodes) episodes, \(p.steps) steps"
        }
    }

    /// Ends the progress line (once).
    func finish() {
        state.withLock { state in
            if state.drawn { FileHandle.standardError.write(Data("\n".utf8)) }
            state.drawn = false
        }
    }
}

/// One progress bar per run of a sequence (a study's attacks at each ε), started afresh with
/// each run's label.
final class RunProgress: Sendable {
    private let bar = Mutex<ProgressBar?>(nil)

    func start(_ label: String) {
        bar.withLock {
            $0?.finish()
            $0 = ProgressBar(label: label)
        }
    }

    func update(_ p: EpisodeProgress) { bar.withLock { $0 }?.update(p) }

    /// A line of its own on standard error (what an attack does before its run), below the bar.
    func note(_ text: String) {
        bar.withLock { $0 }?.finish()
        FileHandle.standardError.write(Data("  \(text)\n".utf8))
    }

    func finish() {
        bar.withLock {
            $0?.finish()
            $0 = nil
        }
    }
}
