import Attacks
import Foundation
import Linalg
import Testing

@testable import Evaluation

/// The report's figure parts, each against what it promises: nice ticks, short distinct labels,
/// contrast of heat-map text, the ε that halves the return, the table's highlighted rows.
@Suite struct ReportFigureTests {
    /// Random ranges of every magnitude: five to eight ticks, equally spaced by 1, 2, 2.5 or
    /// 5 × 10ᵏ, covering the range with less than one step to spare at either end.
    @Test func axisTicksAreNiceAndCoverTheRange() {
        let random = RandomStream(seed: 7)
        for _ in 0..<2_000 {
            let scale = pow(10, random.uniform(-4, 5))
            let a = random.uniform(-1, 1) * scale
            let b = a + random.uniform(0.001, 3) * scale
            let axis = ChartAxis(covering: a, b)
            #expect(ChartAxis.tickCounts.contains(axis.ticks.count), "\(a)…\(b): \(axis.ticks)")
            #expect(axis.lower <= a && axis.upper >= b, "\(a)…\(b): \(axis.ticks)")
            #expect(a - axis.lower < axis.step * (1 + 1e-9) && axis.upper - b < axis.step * (1 + 1e-9))
            let exponent = floor(log10(axis.step) + 1e-12)
            let mantissa = axis.step / pow(10, exponent)
            #expect(ChartAxis.mantissas.contains { abs($0 - mantissa) < 1e-9 }, "step \(axis.step)")
            for (t0, t1) in zip(axis.ticks, axis.ticks.dropFirst()) {
                #expect(abs((t1 - t0) - axis.step) <= 1e-9 * max(1, abs(t1)))
            }
            // Labels are distinct: the decimals suffice for the step.
            #expect(Set(axis.ticks.map(axis.label)).count == axis.ticks.count, "\(axis.ticks.map(axis.label))")
        }
    }

    /// The ranges a report meets: ε from 0 to 0.2 and returns up to 500 give the ticks a person
    /// would draw; a constant value still gets an axis.
    @Test func axisTicksOfTypicalRanges() {
        #expect(
            ChartAxis(covering: 0, 0.2).ticks.map(ChartAxis(covering: 0, 0.2).label) == ["0.00", "0.05", "0.10", "0.15", "0.20"])
        let returns = ChartAxis(covering: 9.5, 500)
        #expect(returns.ticks == [0, 100, 200, 300, 400, 500])
        let negative = ChartAxis(covering: -1500, -150)
        #expect(
            negative.ticks.first! <= -1500 && negative.ticks.last! >= -150 && negative.label(negative.ticks[0]).hasPrefix("-"))
        let constant = ChartAxis(covering: 500, 500)
        #expect(constant.lower < 500 && constant.upper > 500 && ChartAxis.tickCounts.contains(constant.ticks.count))
        #expect(ChartAxis(covering: -0.3, 0.1).label(0) == "0.0")
    }

    /// Labels from the example study's canonical specs: name plus non-default parameters,
    /// choices by value, surrogates by file name; all distinct.
    @Test func attackLabelsAreShortAndDistinct() {
        let specs = [
            "fgsm:random_start=auto", "mad:alpha_ratio=0.25,restarts=1,steps=10",
            "pgd:alpha_ratio=0.25,loss=auto,random_start=1,restarts=1,steps=10",
            "pgd:alpha_ratio=0.25,loss=cw,random_start=1,restarts=1,steps=10",
            "pgd:alpha_ratio=0.25,loss=auto,random_start=1,restarts=1,steps=20",
            "transfer:restarts=1,steps=10,surrogate=policies/cartpole-dqn.safetensors",
            "transfer:restarts=1,steps=10,surrogate=policies/cartpole-ppo.safetensors", "uniform",
        ]
        let labels = AttackLabels(specs: specs, registry: .standard)
        #expect(
            specs.map(labels.label) == [
                "fgsm", "mad", "pgd", "pgd (cw)", "pgd (steps=20)", "transfer ← cartpole-dqn", "transfer ← cartpole-ppo",
                "uniform",
            ])
        // Two surrogates with one file name in different folders: still distinct.
        let twins = AttackLabels(
            specs: ["transfer:surrogate=a/p.safetensors", "transfer:surrogate=b/p.safetensors"], registry: .standard)
        #expect(
            Set(twins.labels.values).count == 2 && Set(twins.labels.values) == ["transfer ← p", "transfer ← p #2"],
            "\(twins.labels)")
        // One colour per spec, the same in every figure: the assignment depends on the set only.
        let again = AttackLabels(specs: specs.reversed(), registry: .standard)
        for spec in specs { #expect(labels.colour(spec) == again.colour(spec)) }
        #expect(Set(specs.map { labels.colour($0).colour + (labels.colour($0).dash ?? "") }).count == specs.count)
    }

    /// Adversaries trained against each policy share a heat-map column (`learned ← own`) unless
    /// one policy has two of them; surrogate files (transfer) never merge; a training run's
    /// `RUN/policy.safetensors` is named by its run directory.
    @Test func trainedAdversariesShareAHeatMapColumn() {
        let cells = [
            ("runs/a/policy.safetensors", "learned:adversary=runs/attacks/a-learned/policy.safetensors"),
            ("runs/b/policy.safetensors", "learned:adversary=runs/attacks/b-learned/policy.safetensors"),
            ("runs/a/policy.safetensors", "paad:adversary=runs/attacks/a-paad/policy.safetensors,alpha_ratio=1.0,steps=1"),
            ("runs/b/policy.safetensors", "paad:adversary=runs/attacks/b-paad/policy.safetensors,alpha_ratio=1.0,steps=1"),
            ("runs/b/policy.safetensors", "paad:adversary=runs/attacks/c-paad/policy.safetensors,alpha_ratio=1.0,steps=2"),
            ("runs/a/policy.safetensors", "transfer:restarts=1,steps=10,surrogate=policies/cartpole-dqn.safetensors"),
            ("runs/b/policy.safetensors", "transfer:restarts=1,steps=10,surrogate=policies/cartpole-ppo.safetensors"),
            ("runs/a/policy.safetensors", "uniform"), ("runs/b/policy.safetensors", "uniform"),
        ]
        let columns = AttackLabels.columns(of: cells, registry: .standard)
        #expect(columns[cells[0].1] == "learned:adversary=own" && columns[cells[1].1] == "learned:adversary=own")
        // PA-AD with two steps is another attack: its own column.
        #expect(columns[cells[2].1] == "paad:adversary=own,alpha_ratio=1.0,steps=1")
        #expect(columns[cells[3].1] == "paad:adversary=own,alpha_ratio=1.0,steps=1")
        #expect(columns[cells[4].1] == "paad:adversary=own,alpha_ratio=1.0,steps=2")
        #expect(columns[cells[5].1] == cells[5].1 && columns[cells[6].1] == cells[6].1)
        #expect(columns["uniform"] == "uniform")
        // b attacked by two learned adversaries: every learned spec keeps its own column.
        let twice = AttackLabels.columns(
            of: cells + [("runs/b/policy.safetensors", "learned:adversary=runs/attacks/a-learned/policy.safetensors")],
            registry: .standard)
        #expect(twice[cells[0].1] == cells[0].1 && twice[cells[1].1] == cells[1].1)
        #expect(
            AttackLabels(specs: ["learned:adversary=own"], registry: .standard).label("learned:adversary=own") == "learned ← own")
        #expect(ReportData.shortName("runs/hopper-sa-ppo-seed2/policy.safetensors") == "hopper-sa-ppo-seed2")
        #expect(ReportData.shortName("policies/hopper-ppo.safetensors") == "hopper-ppo")
    }

    /// Dark viridis colours get white text, light ones black text, with a contrast ratio of at
    /// least 4.5 (WCAG AA) along the whole scale.
    @Test func heatMapTextContrastsWithItsCell() {
        func luminance(_ hex: String) -> Double {
            let value = Int(hex.dropFirst(), radix: 16)!
            return [(value >> 16) & 255, (value >> 8) & 255, value & 255].enumerated().map { i, c -> Double in
                let s = Double(c) / 255
                return [0.2126, 0.7152, 0.0722][i] * (s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4))
            }.reduce(0, +)
        }
        #expect(HeatMap.colour(0).hex == "#440154" && HeatMap.colour(1).hex == "#fde725")
        for k in 0...100 {
            let (hex, darkText) = HeatMap.colour(Double(k) / 100)
            let l = luminance(hex)
            let ratio = darkText ? (l + 0.05) / 0.05 : 1.05 / (l + 0.05)
            #expect(ratio >= 4.5, "t = \(Double(k) / 100): \(hex) with \(darkText ? "black" : "white") text, contrast \(ratio)")
        }
    }

    /// The ε that halves the return: linear between the two ε around the crossing, computed by
    /// hand; nil when the curve never falls below the level; the first ε when it starts below.
    @Test func halvingEpsilonInterpolatesBetweenGridPoints() {
        let crossing = ReportData.Curve.crossing
        #expect(crossing([(0, 500), (0.05, 490.2), (0.1, 116.6)], 261) == 0.05 + (490.2 - 261) / (490.2 - 116.6) * 0.05)
        #expect(crossing([(0, 500), (0.1, 400)], 261) == nil)
        #expect(crossing([(0.1, 100), (0.2, 50)], 261) == 0.1)
        var curve = ReportData.Curve(
            policy: "p", environment: "CartPole-v1", norm: "linf", units: "raw", clean: 500, episodes: 2, attacks: [],
            strongest: [
                LineChart.Point(x: 0.1, mean: 300, low: 200, high: 400), LineChart.Point(x: 0.2, mean: 100, low: 50, high: 300),
            ], randomReturn: 20)
        // Half of the return above R₀ = 20 is 260; the curve starts from the clean return at ε = 0.
        let h = curve.halvingEpsilon!
        #expect(h.estimate == 0.1 + (300 - 260) / (300 - 100) * 0.1)
        #expect(h.low == 0 + (500 - 260) / (500 - 200) * 0.1)
        #expect(h.high == nil)
        curve.randomReturn = nil
        #expect(curve.halvingEpsilon == nil)
    }

    /// The table highlights the lowest attacked mean of each (policy, ε, threat model, seed) —
    /// every row that reaches it —, nothing where all attacks did equally well, nothing at ε = 0.
    @Test func tableHighlightsTheStrongestAttacks() {
        func row(_ attack: String, _ epsilon: Double, _ attacked: Double) -> ResultsStore.Row {
            ResultsStore.Row(
                policy: "p", environment: "CartPole-v1", attack: attack, epsilon: epsilon, norm: "linf", units: "raw", seed: 0,
                episodes: 2, cleanMean: 500, attackedMean: attacked, dropMean: 500 - attacked, dropLow: 0, dropHigh: 0,
                flipRate: 0, queries: 0)
        }
        let rows = [
            row("fgsm", 0, 500), row("pgd", 0, 500), row("fgsm", 0.1, 500), row("pgd", 0.1, 500), row("fgsm", 0.2, 90),
            row("pgd", 0.2, 40), row("mad", 0.2, 40),
        ]
        let table = ResultsTable(rows: rows, labels: AttackLabels(specs: rows.map(\.attack), registry: .standard))
        #expect(table.strongest == [5, 6])
        #expect(table.html.components(separatedBy: "class=\"cell strongest\"").count - 1 == 2)
    }

    /// An environment picture placed inside a figure keeps its view box and takes the width given.
    @Test func environmentPictureIsNestedWithItsViewBox() {
        let picture =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"400\" viewBox=\"0 0 600 400\">\n<rect/>\n</svg>\n"
        let (svg, height) = FlipFigure.nested(picture, x: 8, y: 30, width: 200)
        #expect(height == 200.0 * 400 / 600)
        #expect(svg.hasPrefix("<svg x=\"8.00\" y=\"30.00\" width=\"200.00\" height=\"133.33\" viewBox=\"0 0 600.0 400.0\">"))
        #expect(svg.hasSuffix("<rect/>\n</svg>\n"))
    }
}
