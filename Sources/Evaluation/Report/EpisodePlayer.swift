import Agents
import Attacks
import Environments
import Foundation
import Linalg

/// The episode player of a report: the most damaging attacked episode of a results database
/// next to its clean twin (same seed), frame by frame — environment SVG, the perturbation per
/// observation dimension, clean and taken actions, return so far — with play, pause and step
/// controls in plain JavaScript and every frame embedded (the page fetches nothing). For image
/// observations the perturbation is drawn as one heat map a channel, beside the saliency map
/// `|∂z_a/∂s|` of the clean action at the clean observation (`Saliency.gradient`).
public struct EpisodePlayer: Sendable {
    struct Frame: Encodable {
        var svg: String
        var perturbation: [Float]
        /// `∂z_a/∂s` of the clean action, for image observations.
        var gradient: [Float]?
        var cleanAction: String
        var action: String
        var returnSoFar: Double
    }

    struct Data: Encodable {
        var title: String
        var clean: [Frame]
        var attacked: [Frame]
        /// The observations' image layout, when they are images.
        var image: Image?
    }

    /// `ImageShape` as the page's script reads it.
    struct Image: Encodable {
        var channels: Int
        var height: Int
        var width: Int
        var channelsLast: Bool
    }

    /// Longest episode shown, in steps (later frames are dropped from the page).
    public static let maximumFrames = 300

    /// Frames of one recorded episode, rebuilt by replaying its actions from its seed; with
    /// `saliencyOf`, each carries the gradient of its clean action.
    static func frames(environment: String, outcome: EpisodeOutcome, saliencyOf policy: Policy<Float>? = nil) throws
        -> [Frame]
    {
        let env = try Registry.make(environment)
        env.reset(seed: outcome.seed)
        var frames: [Frame] = []
        var total = 0.0
        for step in outcome.trace.prefix(maximumFrames) {
            frames.append(
                Frame(
                    svg: env.base.renderSVG(), perturbation: zip(step.perceived, step.observation).map { $0 - $1 },
                    gradient: policy.map {
                        Saliency.gradient(of: $0, at: step.observation, action: step.cleanAction).map(Float.init)
                    },
                    cleanAction: step.cleanAction.description, action: step.action.description, returnSoFar: total))
            total += step.reward
            _ = env.step(step.action)
        }
        frames.append(Frame(svg: env.base.renderSVG(), perturbation: [], cleanAction: "", action: "(end)", returnSoFar: total))
        return frames
    }

    /// The first attacked step whose action flipped: the environment's picture, the
    /// perturbation the policy saw, the action it would have taken and the one it took.
    struct FlippedStep {
        var caption: String
        var frame: String
        var perturbation: [Float]
        var cleanAction: String
        var action: String
    }

    /// The player section (markup and script) and the first flipped step of the cell with the
    /// largest mean reward drop.
    static func section(store: ResultsStore, toolkit: Toolkit = .standard) throws -> (
        html: String, flippedStep: FlippedStep?
    )? {
        guard let worst = try store.rows().filter({ $0.epsilon > 0 }).max(by: { $0.dropMean < $1.dropMean }) else { return nil }
        let policy = try toolkit.loadPolicy(contentsOf: URL(fileURLWithPath: worst.policy))
        let evaluation = AttackEvaluation(
            policy: policy, environment: worst.environment, episodes: 1, seed: UInt64(worst.seed),
            norm: ThreatModel.Norm(rawValue: worst.norm) ?? .linf, units: ThreatModel.Units(rawValue: worst.units) ?? .raw)
        var cleanRunner = EpisodeRunner(policy: policy, environment: worst.environment)
        cleanRunner.recordTraces = true
        cleanRunner.recordObservations = evaluation.units == .std
        let clean = try cleanRunner.run(episodes: 1, seed: UInt64(worst.seed))
        let (_, attacked) = try evaluation.runRecorded(
            try toolkit.makeAttack(worst.attack), epsilon: worst.epsilon, clean: clean, traces: true)
        let image = (try Registry.make(worst.environment).base as? any ImageObservations)?.imageShape
        let data = Data(
            title: "\(worst.policy) under \(worst.attack) at ε = \(worst.epsilon), seed \(worst.seed)",
            clean: try frames(environment: worst.environment, outcome: clean[0]),
            attacked: try frames(environment: worst.environment, outcome: attacked[0], saliencyOf: image.map { _ in policy }),
            image: image.map { Image(channels: $0.channels, height: $0.height, width: $0.width, channelsLast: $0.channelsLast) })
        var flippedStep: FlippedStep? = nil
        if let t = attacked[0].trace.firstIndex(where: { $0.action != $0.cleanAction }), t < data.attacked.count {
            let frame = data.attacked[t]
            flippedStep = FlippedStep(
                caption:
                    "The most damaging attack's first flipped action: step \(t) of \(data.title); the policy would have taken \(frame.cleanAction) and took \(frame.action).",
                frame: frame.svg, perturbation: frame.perturbation, cleanAction: frame.cleanAction, action: frame.action)
        }
        let encoder = JSONEncoder.gauntlet()  // sorted keys: the same database gives the same page
        let json = String(decoding: try encoder.encode(data), as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
        return (
            html: """
            <h2>Episode player</h2>
            <p id="player-title"></p>
            <div id="player-controls"><button id="player-play">play</button> <button id="player-step">step</button>
            <button id="player-reset">reset</button> frame <span id="player-frame">0</span></div>
            <div style="display:flex;gap:12px">
            <div><h3>clean</h3><div id="player-clean" class="player-view" style="width:420px;height:280px"></div><p id="player-clean-info"></p></div>
            <div><h3>attacked</h3><div id="player-attacked" class="player-view" style="width:420px;height:280px"></div><p id="player-attacked-info"></p>
            <div id="player-perturbation"></div></div>
            </div>
            <script id="player-data" type="application/json">\(json)</script>
            <script>
            (function () {
              var data = JSON.parse(document.getElementById("player-data").textContent);
              var frame = 0, timer = null;
              var length = Math.max(data.clean.length, data.attacked.length);
              document.getElementById("player-title").textContent = data.title;
              function view(id, frames) {
                var f = frames[Math.min(frame, frames.length - 1)];
                var box = document.getElementById(id);
                box.innerHTML = f.svg;
                var svg = box.querySelector("svg");
                if (svg) { svg.setAttribute("width", "420"); svg.setAttribute("height", "280"); }
                return f;
              }
              function render() {
                var c = view("player-clean", data.clean), a = view("player-attacked", data.attacked);
                document.getElementById("player-frame").textContent = String(frame);
                document.getElementById("player-clean-info").textContent = "action " + c.action + ", return so far " + c.return_so_far;
                document.getElementById("player-attacked-info").textContent =
                  "clean action " + a.clean_action + ", taken " + a.action + ", return so far " + a.return_so_far;
                var bars = document.getElementById("player-perturbation");
                bars.innerHTML = "";
                if (data.image) { heatMaps(bars, a); return; }
                var largest = 1e-12;
                a.perturbation.forEach(function (d) { largest = Math.max(largest, Math.abs(d)); });
                a.perturbation.forEach(function (d, j) {
                  var row = document.createElement("div");
                  row.textContent = "δ[" + j + "] = " + d.toFixed(4) + " ";
                  var bar = document.createElement("span");
                  bar.style.display = "inline-block"; bar.style.height = "8px"; bar.style.background = "#3b6fd0";
                  bar.style.width = (80 * Math.abs(d) / largest) + "px";
                  row.appendChild(bar);
                  bars.appendChild(row);
                });
              }
              // White to #b2182b (t > 0) or #2166ac (t < 0), |t| ≤ 1; |gradient| white to #252525.
              function shade(t, positive, negative) {
                var target = t >= 0 ? positive : negative, m = Math.min(Math.abs(t), 1);
                return "rgb(" + target.map(function (c) { return Math.round(255 - (255 - c) * m); }).join(",") + ")";
              }
              function heatMaps(box, f) {
                var im = data.image, cell = Math.max(2, Math.min(16, Math.floor(160 / Math.max(im.height, im.width))));
                if (!f.gradient) { box.textContent = "(end of episode)"; return; }
                var maxDelta = 1e-12, maxGradient = 1e-12;
                f.perturbation.forEach(function (d) { maxDelta = Math.max(maxDelta, Math.abs(d)); });
                f.gradient.forEach(function (g) { maxGradient = Math.max(maxGradient, Math.abs(g)); });
                var caption = document.createElement("div");
                caption.textContent = "per channel: δ (max |δ| " + maxDelta.toPrecision(3) + ") and |∂z/∂s| of the clean action (max " +
                  maxGradient.toPrecision(3) + ")";
                box.appendChild(caption);
                for (var c = 0; c < im.channels; c++) {
                  var row = document.createElement("div");
                  row.textContent = "channel " + c + " ";
                  [0, 1].forEach(function (panel) {
                    var canvas = document.createElement("canvas");
                    canvas.width = cell * im.width; canvas.height = cell * im.height;
                    canvas.style.border = "1px solid #888"; canvas.style.marginRight = "6px";
                    var context = canvas.getContext("2d");
                    for (var r = 0; r < im.height; r++) {
                      for (var q = 0; q < im.width; q++) {
                        var k = im.channels_last ? (r * im.width + q) * im.channels + c : (c * im.height + r) * im.width + q;
                        context.fillStyle = panel === 0
                          ? shade(f.perturbation[k] / maxDelta, [178, 24, 43], [33, 102, 172])
                          : shade(Math.abs(f.gradient[k]) / maxGradient, [37, 37, 37], [37, 37, 37]);
                        context.fillRect(q * cell, r * cell, cell, cell);
                      }
                    }
                    row.appendChild(canvas);
                  });
                  box.appendChild(row);
                }
              }
              function step() { if (frame < length - 1) { frame += 1; render(); } else { pause(); } }
              function pause() { if (timer) { clearInterval(timer); timer = null; } document.getElementById("player-play").textContent = "play"; }
              document.getElementById("player-step").addEventListener("click", function () { pause(); step(); });
              document.getElementById("player-reset").addEventListener("click", function () { pause(); frame = 0; render(); });
              document.getElementById("player-play").addEventListener("click", function () {
                if (timer) { pause(); return; }
                timer = setInterval(step, 100);
                document.getElementById("player-play").textContent = "pause";
              });
              render();
            })();
            </script>

            """, flippedStep: flippedStep
        )
    }
}
