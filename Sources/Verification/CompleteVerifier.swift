import Linalg
import NeuralNet

/// Complete verification of a piecewise-linear network's decision over a box of inputs: can some
/// input in the box make output `t` the largest? Either a witness (an input at which it is,
/// checked by a forward pass) or a proof that none exists — or, when the time limit is hit or
/// the best margin is a tie within the tolerance, "undecided", never a guess.
///
/// Branch and bound over the phases of the ReLUs (and leaky ReLUs, slope α < 1) whose
/// pre-activation bounds `l < 0 < u` straddle zero, with linear-programming bounds from HiGHS's
/// simplex (Bunel et al. 2018, "A unified view of piecewise linear neural network
/// verification"). In a subproblem every Linear layer is an equality, every neuron of fixed or
/// stable phase is linear, and every other one is relaxed to its convex hull over `[l, u]`:
///
///     y ≥ x,   y ≥ αx,   y ≤ αl + (u − αl)·(x − l)/(u − l)
///
/// and the margin `m ≤ out_t − out_a` (every `a ≠ t`) is maximised. The bounds `l, u` decide the
/// relaxation's strength: interval arithmetic for the first hidden layer (exact there), then for
/// every later layer the relaxation of the layers before it, minimised and maximised neuron by
/// neuron — recomputed after each split. A proof says the largest margin is below `−tolerance`;
/// it holds up to HiGHS's floating-point feasibility tolerance (1e-7). Inputs are the network's
/// own (observations after scaling); callers map a witness back and confirm it on the policy.
public struct CompleteVerifier: Sendable {
    /// Seconds the solver may spend on one question (wall clock).
    public var timeLimit: Double
    /// Margins within this of zero are ties: neither witness nor proof without a forward pass.
    public var tolerance: Double

    /// The default time limit, generous: an easy question ends in milliseconds whatever the
    /// limit, and only the hard ones (most ReLUs unstable over the box) use it.
    public static let defaultTimeLimit = 300.0

    public init(timeLimit: Double = defaultTimeLimit, tolerance: Double = 1e-6) {
        self.timeLimit = timeLimit
        self.tolerance = tolerance
    }

    /// The answer to one question.
    public enum Verdict: Equatable, Sendable {
        /// An input of the box at which the target's output exceeds every other one (checked by
        /// a forward pass in Double).
        case witness([Double])
        /// No input of the box makes the target the largest output.
        case impossible
        /// Neither could be shown: the reason (the time limit, or a tie within the tolerance).
        case undecided(String)
    }

    /// The network over one box, with the bounds of every hidden neuron, ready for questions.
    public struct Problem: Sendable {
        public let network: Sequential<Double>
        public let lower: [Double]
        public let upper: [Double]
        /// Pre-activation bounds of each hidden Linear layer.
        public let hiddenBounds: [(lower: [Double], upper: [Double])]
    }

    /// The network's layers: each Linear followed by its activation (identity when none).
    struct Layer {
        var weight: Matrix<Double>
        var bias: [Double]
        /// Slope below zero: 0 for ReLU, α for leaky ReLU, 1 for identity.
        var slope: Double
    }

    static func layers(of network: Sequential<Double>) throws(VerificationError) -> [Layer] {
        var layers: [Layer] = []
        for (index, module) in network.modules.enumerated() {
            switch module {
            case .linear:
                layers.append(Layer(weight: network.weight(layers.count), bias: network.bias(layers.count), slope: 1))
            case .activation(let activation):
                guard !layers.isEmpty, layers[layers.count - 1].slope == 1 else {
                    throw VerificationError("module \(index): an activation must follow a Linear layer")
                }
                switch activation {
                case .identity: break
                case .relu: layers[layers.count - 1].slope = 0
                case .leakyReLU(let slope) where slope >= 0 && slope < 1: layers[layers.count - 1].slope = slope
                default:
                    throw VerificationError(
                        "complete verification needs a piecewise-linear network (Linear, ReLU, leaky ReLU); module \(index) is \(activation.name)"
                    )
                }
            case .conv2d, .maxPool2d, .flatten:
                throw VerificationError(
                    "complete verification takes multilayer perceptrons (Linear, ReLU, leaky ReLU); module \(index) is \(module.name)"
                )
            }
        }
        guard layers.last?.slope == 1 else {
            throw VerificationError(
                "complete verification compares the last Linear layer's outputs; the network applies an activation after it")
        }
        return layers
    }

    /// The network over the box `[lower, upper]` of its inputs, with tightened neuron bounds.
    public func problem(network: Sequential<Double>, lower: [Double], upper: [Double]) throws(VerificationError) -> Problem {
        let layers = try Self.layers(of: network)
        guard lower.count == layers[0].weight.columns, upper.count == lower.count, zip(lower, upper).allSatisfy({ $0 <= $1 })
        else {
            throw VerificationError("the box must have \(layers[0].weight.columns) dimensions with lower ≤ upper")
        }
        var hidden: [(lower: [Double], upper: [Double])] = []
        for k in 0..<(layers.count - 1) {
            if k == 0 {
                hidden.append(Self.intervalBounds(layers[0], lower: lower, upper: upper))
            } else {
                let inputs = activated(hidden[k - 1], layers[k - 1])
                let interval = Self.intervalBounds(layers[k], lower: inputs.lower, upper: inputs.upper)
                hidden.append(try tightened(layers, hidden, layer: k, lower: lower, upper: upper, interval: interval))
            }
        }
        return Problem(network: network, lower: lower, upper: upper, hiddenBounds: hidden)
    }

    /// Whether some input of the problem's box makes output `target` the largest: branch and
    /// bound over the unstable neurons' phases. Each subproblem fixes some phases (a fixed
    /// neuron is linear, its pre-activation bounded by 0), re-tightens the bounds of the layers
    /// after the last split, and maximises the margin over the linear relaxation; it is pruned
    /// when that maximum is below `−tolerance`, ends the search when the relaxation's input is a
    /// witness, and otherwise splits the neuron `marginRelaxation` names. The search settles the
    /// easy questions (most witnesses are found at its root) in a tenth of the time limit; the
    /// mixed-integer program, much the stronger prover, gets the rest.
    public func canForce(_ target: Int, in problem: Problem) throws(VerificationError) -> Verdict {
        let layers = try Self.layers(of: problem.network)
        let outputs = layers[layers.count - 1].weight.rows
        guard (0..<outputs).contains(target) else { throw VerificationError("target \(target) is not one of \(outputs) outputs") }
        guard outputs > 1 else { return .witness(problem.lower) }
        let start = ContinuousClock.now
        let deadline = start + .seconds(timeLimit / 10)
        var open: [(bounds: [(lower: [Double], upper: [Double])], split: Int?)] = [(problem.hiddenBounds, nil)]
        var solved = 0
        var tie = false
        while let node = open.popLast() {
            guard ContinuousClock.now < deadline else {
                let remaining = timeLimit - (ContinuousClock.now - start) / .seconds(1)
                return mixedInteger(layers, problem, target: target, timeLimit: remaining)
                    ?? .undecided("time limit of \(timeLimit) s (\(solved) subproblems, then the mixed-integer program)")
            }
            solved += 1
            var hidden = node.bounds
            if let split = node.split {
                for k in (split + 1)..<hidden.count {
                    hidden[k] = try tightened(
                        layers, hidden, layer: k, lower: problem.lower, upper: problem.upper, interval: hidden[k])
                }
                if hidden.contains(where: { zip($0.lower, $0.upper).contains { $0 > $1 } }) { continue }  // empty
            }
            guard let relaxation = marginRelaxation(layers, hidden, target: target, lower: problem.lower, upper: problem.upper),
                relaxation.margin >= -tolerance
            else { continue }
            let point = zip(zip(relaxation.input, problem.lower), problem.upper).map { min(max($0.0, $0.1), $1) }
            if let witness = Self.ascend(target, from: point, problem: problem) { return .witness(witness) }
            if node.split == nil {
                // Before branching, a wider search from the box's corners (deterministic).
                for restart in 0..<32 {
                    let corner = problem.lower.indices.map { j in
                        (j * 7919 + restart * 104_729) % 3 == 0 ? problem.upper[j] : problem.lower[j]
                    }
                    if let witness = Self.ascend(target, from: corner, problem: problem, steps: 100) { return .witness(witness) }
                }
            }
            guard let (k, i) = relaxation.split else {
                tie = true  // the relaxation is the network here, and its margin is within the tolerance of 0
                continue
            }
            var active = hidden
            active[k].lower[i] = 0
            var inactive = hidden
            inactive[k].upper[i] = 0
            open.append((inactive, k))
            open.append((active, k))
        }
        return tie ? .undecided("the largest margin is a tie within the tolerance \(tolerance)") : .impossible
    }

    /// The question as one mixed-integer program (the phases binary, Tjeng et al. 2019) for
    /// HiGHS's branch and cut, which proves the questions the phase search does not finish within
    /// its tenth of the time: a witness, a proof, or nil at the time limit.
    func mixedInteger(_ layers: [Layer], _ problem: Problem, target: Int, timeLimit: Double) -> Verdict? {
        guard timeLimit > 0 else { return nil }
        var encoding = Encoding(
            layers: layers, hidden: problem.hiddenBounds, lower: problem.lower, upper: problem.upper, integer: true)
        // The margin bounded below by −tolerance: every integer solution is a candidate witness,
        // and a program without one is the proof.
        let margin = encoding.addMargin(layers[layers.count - 1], target: target, lower: -tolerance)
        let program = LinearProgram(encoding, integer: true, timeLimit: timeLimit)
        program.setObjective([(margin, 1)], maximize: true)
        // A margin this clear is witness enough: stop instead of proving it the largest.
        program.stop(atObjective: 1e-3)
        let outcome = program.solve()
        if outcome == .infeasible { return .impossible }
        guard program.hasSolution else { return nil }
        let columns = program.solution().columns
        let point = zip(zip(encoding.inputs.map { columns[Int($0)] }, problem.lower), problem.upper).map {
            min(max($0.0, $0.1), $1)
        }
        if let witness = Self.ascend(target, from: point, problem: problem) { return .witness(witness) }
        // Solved to optimality with the best margin in [−tolerance, 1e-3) and no witness near it.
        return outcome == .solved ? .undecided("the largest margin is a tie within the tolerance \(tolerance)") : nil
    }

    /// The largest margin `min_{a≠t} out_t − out_a` over the linear relaxation of the network
    /// with the given neuron bounds (nil when it is empty), the input attaining it, and the
    /// unstable neuron to split next: the one whose chord promises the largest gain, its dual
    /// value times the chord's height above the activation at 0, `(1 − α)·u·(−l)/(u − l)` (the
    /// BaBSR-style score of Bunel et al. 2020) — the bound the split would remove; nil when the
    /// relaxation is the network at the optimum.
    func marginRelaxation(
        _ layers: [Layer], _ hidden: [(lower: [Double], upper: [Double])], target: Int, lower: [Double], upper: [Double]
    ) -> (margin: Double, input: [Double], split: (layer: Int, neuron: Int)?)? {
        var encoding = Encoding(layers: layers, hidden: hidden, lower: lower, upper: upper)
        let margin = encoding.addMargin(layers[layers.count - 1], target: target, lower: nil)
        let program = LinearProgram(encoding, timeLimit: timeLimit)
        program.setObjective([(margin, 1)], maximize: true)
        guard program.solve() == .solved else { return nil }
        let (columns, duals) = program.solution()
        var split: (layer: Int, neuron: Int)?
        var best = 1e-12
        // Without a binding chord (a degenerate optimum), the neuron whose relaxation the optimum
        // uses most: its output's height above the activation of its input.
        var widest: (layer: Int, neuron: Int)?
        var gap = 1e-9
        for (k, chords) in encoding.chords.enumerated() {
            for case (let i, let row?) in chords.enumerated() {  // the unstable neurons
                let (l, u) = (hidden[k].lower[i], hidden[k].upper[i])
                let score = abs(duals[Int(row)]) * (1 - layers[k].slope) * u * (-l) / (u - l)
                if score > best { (split, best) = ((k, i), score) }
                let (x, y) = (columns[Int(encoding.neurons[k][i].x)], columns[Int(encoding.neurons[k][i].y)])
                let used = y - (x >= 0 ? x : layers[k].slope * x)
                if used > gap { (widest, gap) = ((k, i), used) }
            }
        }
        return (program.objective, encoding.inputs.map { columns[Int($0)] }, split ?? widest)
    }

    /// A witness near `start`, if projected sign-gradient ascent on the margin (the target's
    /// output minus the largest other) finds one inside the box; nil otherwise. The relaxation's
    /// optimum is a good start: a search from it finds witnesses the relaxation only suggests.
    static func ascend(_ target: Int, from start: [Double], problem: Problem, steps: Int = 50) -> [Double]? {
        let network = problem.network
        let workspace = Workspace(for: network, batch: 1)
        var point = start
        for step in 0...steps {
            let input = Matrix(row: point)
            let outputs = network.forward(input, workspace: workspace).row(0)
            let rival = outputs.indices.filter { $0 != target }.max { outputs[$0] < outputs[$1] }!
            if outputs[target] > outputs[rival] { return point }
            guard step < steps else { break }
            var direction = [Double](repeating: 0, count: outputs.count)
            direction[target] = 1
            direction[rival] = -1
            let gradient = network.inputGradient(input, outputGradient: Matrix(row: direction), workspace: workspace).row(0)
            let size = 0.1 * (1 - Double(step) / Double(steps))
            for j in point.indices where gradient[j] != 0 {
                let width = problem.upper[j] - problem.lower[j]
                point[j] = min(max(point[j] + size * width * (gradient[j] > 0 ? 1 : -1), problem.lower[j]), problem.upper[j])
            }
        }
        return nil
    }

    /// Whether output `target` exceeds every other at `input` (a Double forward pass).
    static func strictlyLargest(_ target: Int, at input: [Double], network: Sequential<Double>) -> Bool {
        isStrictlyLargest(target, in: network.forward(Matrix(row: input), workspace: Workspace(for: network, batch: 1)).row(0))
    }

    /// Whether `outputs[target]` exceeds every other output (no tie: a witness must not depend
    /// on how ties are broken).
    static func isStrictlyLargest<S: Comparable>(_ target: Int, in outputs: [S]) -> Bool {
        outputs.indices.allSatisfy { $0 == target || outputs[$0] < outputs[target] }
    }

    /// Bounds of `W x + b` over the box (exact for one Linear layer).
    static func intervalBounds(_ layer: Layer, lower: [Double], upper: [Double]) -> (lower: [Double], upper: [Double]) {
        var low = layer.bias
        var high = layer.bias
        for i in 0..<layer.weight.rows {
            for j in 0..<layer.weight.columns {
                let w = layer.weight[i, j]
                low[i] += w * (w >= 0 ? lower[j] : upper[j])
                high[i] += w * (w >= 0 ? upper[j] : lower[j])
            }
        }
        return (low, high)
    }

    /// Bounds after the activation.
    func activated(_ bounds: (lower: [Double], upper: [Double]), _ layer: Layer) -> (lower: [Double], upper: [Double]) {
        let f = { (x: Double) in x >= 0 ? x : layer.slope * x }
        return (bounds.lower.map(f), bounds.upper.map(f))
    }

    /// Layer `k`'s pre-activation bounds from the linear-programming relaxation of the layers
    /// before it (binaries relaxed to [0, 1]), intersected with the interval bounds and widened
    /// by the solver's tolerance.
    func tightened(
        _ layers: [Layer], _ hidden: [(lower: [Double], upper: [Double])], layer k: Int, lower: [Double], upper: [Double],
        interval: (lower: [Double], upper: [Double])
    ) throws(VerificationError) -> (lower: [Double], upper: [Double]) {
        let encoding = Encoding(
            layers: Array(layers[..<k]) + [layers[k]], hidden: Array(hidden[..<k]), lower: lower, upper: upper)
        let program = LinearProgram(encoding, timeLimit: timeLimit)
        var bounds = interval
        let weight = layers[k].weight
        // A stable neuron is linear whatever its bounds: only unstable ones are worth an LP.
        for i in 0..<weight.rows where bounds.lower[i] < 0 && bounds.upper[i] > 0 {
            let objective = encoding.lastHidden.enumerated().map { (column: $1, value: weight[i, $0]) }
            for isLower in [true, false] {
                program.setObjective(objective, maximize: !isLower)
                guard program.solve() == .solved else { continue }
                let value = program.objective + layers[k].bias[i]
                let slack = 1e-7 * (1 + abs(value))
                if isLower {
                    bounds.lower[i] = max(bounds.lower[i], value - slack)
                } else {
                    bounds.upper[i] = min(bounds.upper[i], value + slack)
                }
            }
        }
        return bounds
    }
}

/// A network or box complete verification cannot handle.
public struct VerificationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
