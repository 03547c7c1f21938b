import Environments
import Foundation
import Linalg
import NeuralNet

/// How a policy's network outputs become actions.
public enum PolicyKind: String, Equatable, Sendable, Codable, CaseIterable {
    /// Outputs are Q-values; the action is their argmax (DQN).
    case greedyQ = "greedy-q"
    /// Outputs are logits of a categorical distribution (PPO, discrete actions).
    case categorical
    /// Outputs are the mean of a diagonal Gaussian with a state-independent `logStd` (PPO,
    /// continuous actions); sampled actions are clipped to the action bounds, as SB3 does.
    case gaussian
    /// Outputs are a tanh-squashed action in [−1, 1], mapped affinely onto the action bounds
    /// (TD3 / DDPG actors).
    case deterministic
}

/// Whether a stochastic policy's action is its mode (the mean, the most likely action) or a
/// sample. Evaluation uses the mode unless told otherwise, as SB3's `deterministic=True`.
public enum ActionSelection: String, Sendable, Codable {
    case mode, sample
}

/// Observation scaling in front of the network: `z = clip((s − mean) / std, −clip, clip)`.
public struct ObservationScaling<Scalar: BLASScalar>: Equatable, Sendable {
    public var mean: [Scalar]
    public var std: [Scalar]
    public var clip: Scalar

    public init(mean: [Scalar], std: [Scalar], clip: Scalar = 10) {
        precondition(mean.count == std.count && std.allSatisfy { $0 > 0 }, "scaling needs positive standard deviations")
        self.mean = mean
        self.std = std
        self.clip = clip
    }

    /// From a running normaliser's statistics: `std = √(var + ε)`.
    public init(_ normalizer: ObservationNormalizer) {
        self.init(
            mean: normalizer.mean.map { Scalar($0) },
            std: zip(normalizer.variance, normalizer.mean).map { v, _ in Scalar((v + normalizer.epsilon).squareRoot()) },
            clip: Scalar(normalizer.clip))
    }
}

extension ObservationNormalizer {
    /// A frozen normaliser that scales as `scaling` does (variance `std² − ε`, which gives the
    /// same standard deviations back).
    public init<Scalar: BLASScalar>(frozenAt scaling: ObservationScaling<Scalar>, epsilon: Double = 1e-8) {
        self.init(
            mean: scaling.mean.map { Double($0) }, variance: scaling.std.map { Double($0) * Double($0) - epsilon }, count: 1,
            epsilon: epsilon, clip: Double(scaling.clip), frozen: true)
    }
}

/// A policy over a network: the differentiable surface of ARCHITECTURE.md. Attacks and certification use
/// only `outputs` and `inputGradient`, both on raw (unscaled) observations, batched.
public struct Policy<Scalar: BLASScalar>: Sendable {
    public var network: Sequential<Scalar>
    public var kind: PolicyKind
    public var actionSpace: ActionSpace
    /// Log standard deviations of a Gaussian policy (one per action dimension).
    public var logStd: [Scalar]
    public var scaling: ObservationScaling<Scalar>?
    /// The value network trained with the policy, when kept: V(s) (PPO) or Q(s, a) on `[s, a]`
    /// (TD3/DDPG, `criticTakesAction`). It sees the same scaled observations as the policy.
    public var critic: Sequential<Scalar>?
    public var criticTakesAction = false
    /// Defenses between the observation and the network (ensembles, input transformations),
    /// innermost first. `outputs` and the input gradients go through them, so every attack sees
    /// the defended policy; the critic does not.
    public var defenses: [any PolicyDefense] = []
    /// The randomness of randomised defenses (set per episode group by the episode runner).
    /// Without one, a randomised defense draws from a stream seeded 0 on every call.
    public var defenseRandom: DefenseRandomness?

    public init(
        network: Sequential<Scalar>, kind: PolicyKind, actionSpace: ActionSpace, logStd: [Scalar] = [],
        scaling: ObservationScaling<Scalar>? = nil, critic: Sequential<Scalar>? = nil, criticTakesAction: Bool = false,
        defenses: [any PolicyDefense] = [], defenseRandom: DefenseRandomness? = nil
    ) {
        self.network = network
        self.kind = kind
        self.actionSpace = actionSpace
        self.logStd = logStd
        self.scaling = scaling
        self.critic = critic
        self.criticTakesAction = criticTakesAction
        self.defenses = defenses
        self.defenseRandom = defenseRandom
    }

    /// The value the policy's own networks assign to observations, and its gradient with
    /// respect to them: the critic's V(s) or Q(s, π(s)) when kept, otherwise for a Q-network
    /// `max_a Q(s, a)`. Nil for a policy with neither.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func valueAndInputGradient(_ observations: Matrix<Scalar>) -> (values: [Double], gradient: Matrix<Scalar>)? {
        if let critic {
            let z = scaled(observations)
            var input = z
            let actionCount = criticTakesAction ? network.outputDimensions : 0
            var actorWorkspace: Workspace<Scalar>? = nil
            if criticTakesAction {
                actorWorkspace = Workspace(for: network, batch: z.rows)
                let actions = network.forward(z, workspace: actorWorkspace!)
                input = z.appendingColumns(actions)
            }
            let workspace = Workspace(for: critic, batch: z.rows)
            let values = critic.forward(input, workspace: workspace).storage.map(Double.init)
            var none: [Scalar] = []
            let dInput = critic.backward(
                outputGradient: Matrix(rows: z.rows, columns: 1, repeating: 1), workspace: workspace,
                parameterGradient: &none, request: .input)!
            var dz = Matrix<Scalar>(rows: z.rows, columns: z.columns)
            for r in 0..<z.rows { for j in 0..<z.columns { dz[r, j] = dInput[r, j] } }
            if let actorWorkspace {
                // Through the actor too: ∂Q(s, π(s))/∂s = ∂Q/∂s + (∂π/∂s)ᵀ ∂Q/∂a.
                var dActions = Matrix<Scalar>(rows: z.rows, columns: actionCount)
                for r in 0..<z.rows { for j in 0..<actionCount { dActions[r, j] = dInput[r, z.columns + j] } }
                let throughActor = network.backward(
                    outputGradient: dActions, workspace: actorWorkspace, parameterGradient: &none, request: .input)!
                dz = dz + throughActor
            }
            return (values, unscaledGradient(dz, at: z))
        }
        guard head.outputsAreActionValues else { return nil }
        let q = outputs(observations)
        var outputGradient = Matrix<Scalar>(rows: q.rows, columns: q.columns)
        var values = [Double](repeating: 0, count: q.rows)
        for r in 0..<q.rows {
            let best = argmax(q.row(r))
            values[r] = Double(q[r, best])
            outputGradient[r, best] = 1
        }
        return (values, inputGradient(observations, outputGradient: outputGradient))
    }

    /// A gradient with respect to scaled inputs `z`, mapped back to raw observations.
    public func unscaledGradient(_ gradient: Matrix<Scalar>, at z: Matrix<Scalar>) -> Matrix<Scalar> {
        var result = gradient
        unscale(&result, at: z)
        return result
    }

    /// `unscaledGradient` in place.
    public func unscale(_ gradient: inout Matrix<Scalar>, at z: Matrix<Scalar>) {
        guard let scaling else { return }
        for r in 0..<gradient.rows {
            for j in 0..<gradient.columns {
                gradient[r, j] = abs(z[r, j]) >= scaling.clip ? 0 : gradient[r, j] / scaling.std[j]
            }
        }
    }

    public var observationDimension: Int { network.inputDimensions }
    /// Outputs per observation (Q-values, logits, means or actions).
    public var outputDimension: Int { network.outputDimensions }

    /// Scratch memory for `batch` observations, which `outputs`, `inputGradient` and
    /// `outputsAndInputGradient` reuse across calls (an attack's steps); `unpackedProducts` for
    /// the few-row products of an attack's inner loop.
    public func workspace(batch: Int, unpackedProducts: Bool = false) -> Workspace<Scalar> {
        Workspace(for: network, batch: batch, unpackedProducts: unpackedProducts)
    }

    /// The per-dimension unit of `normalized` threat models: the standard deviations the
    /// observation normalisation divides by.
    public func normalizedUnits() throws(EnvironmentError) -> [Double] {
        guard let scaling else {
            throw EnvironmentError(
                "ε in normalized units needs a policy that normalises its observations (trained with normalize: true, or imported with its VecNormalize statistics); this one does not"
            )
        }
        return scaling.std.map { Double($0) }
    }

    /// The network input for raw observations.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func scaled(_ observations: Matrix<Scalar>) -> Matrix<Scalar> {
        guard let scaling else { return observations }
        var z = observations
        for r in 0..<z.rows {
            for j in 0..<z.columns {
                z[r, j] = min(max((z[r, j] - scaling.mean[j]) / scaling.std[j], -scaling.clip), scaling.clip)
            }
        }
        return z
    }

    /// The box of network inputs for boxes `[lower, upper]` of raw observations: through each
    /// defense's interval form, outermost first, then the observation scaling (monotone per
    /// dimension). Nil when a defense has no exact interval form; the error names it.
    public func networkInputBox(lower: Matrix<Scalar>, upper: Matrix<Scalar>) -> Result<IntervalBounds<Scalar>, PolicyFileError> {
        var box = (lower: lower, upper: upper)
        for defense in defenses.reversed() {
            guard let transformed = defense.transformedBox(lower: box.lower, upper: box.upper) else {
                return .failure(
                    PolicyFileError(
                        "the '\(defense.spec)' defense has no exact interval form, so interval bounds of the network would not bound the defended policy"
                    ))
            }
            box = transformed
        }
        return .success(IntervalBounds(lower: scaled(box.lower), upper: scaled(box.upper)))
    }

    /// The policy inside the outermost defense, and that defense.
    public var outermostDefense: (defense: any PolicyDefense, inner: Policy)? {
        guard let defense = defenses.last else { return nil }
        var inner = self
        inner.defenses.removeLast()
        return (defense, inner)
    }

    /// Whether a defense draws randomness, so that two calls at the same observations differ.
    public var isRandomized: Bool { defenses.contains(where: \.isRandomized) }

    var randomForDefenses: RandomStream { defenseRandom?.stream ?? RandomStream(seed: 0) }

    /// Q-values, logits, Gaussian means or squashed actions for a batch of raw observations.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func outputs(_ observations: Matrix<Scalar>, workspace: Workspace<Scalar>? = nil) -> Matrix<Scalar> {
        if let (defense, inner) = outermostDefense {
            return defense.outputs(observations, inner: inner, random: randomForDefenses)
        }
        let workspace = workspace ?? Workspace(for: network, batch: observations.rows)
        return network.forward(scaled(observations), workspace: workspace)
    }

    /// `∂L/∂observation` given `∂L/∂outputs`, through the scaling (zero where it clips).
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func inputGradient(_ observations: Matrix<Scalar>, outputGradient: Matrix<Scalar>, workspace: Workspace<Scalar>? = nil)
        -> Matrix<Scalar>
    {
        if !defenses.isEmpty { return outputsAndInputGradient(observations, workspace: nil) { _ in outputGradient }.gradient }
        let z = scaled(observations)
        return unscaledGradient(network.inputGradient(z, outputGradient: outputGradient, workspace: workspace), at: z)
    }

    /// One forward and one backward pass: the outputs, and `∂L/∂observation` for the output
    /// gradient `lossGradient` computes from them (attacks' inner loop; no second forward).
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func outputsAndInputGradient(
        _ observations: Matrix<Scalar>, workspace: Workspace<Scalar>?,
        lossGradient: (Matrix<Scalar>) -> Matrix<Scalar>
    ) -> (outputs: Matrix<Scalar>, gradient: Matrix<Scalar>) {
        if let (defense, inner) = outermostDefense {
            return defense.outputsAndInputGradient(
                observations, inner: inner, random: randomForDefenses, lossGradient: lossGradient)
        }
        var outputs = Matrix<Scalar>(rows: 0, columns: 0)
        var gradient = Matrix<Scalar>(rows: 0, columns: 0)
        inputGradient(observations, workspace: workspace ?? Workspace(for: network, batch: observations.rows), into: &gradient) {
            z, dz in
            outputs = Matrix(
                rows: observations.rows, columns: network.outputDimensions,
                storage: Array(UnsafeBufferPointer(start: z, count: observations.rows * network.outputDimensions)))
            let outputGradient = lossGradient(outputs)
            precondition(
                outputGradient.rows == outputs.rows && outputGradient.columns == outputs.columns,
                "the loss gradient must have the outputs' shape")
            outputGradient.storage.withUnsafeBufferPointer { dz.update(from: $0.baseAddress!, count: $0.count) }
        }
        return (outputs, gradient)
    }

    /// `outputsAndInputGradient` without allocating, the form of attacks' inner loop:
    /// `lossGradient` reads the outputs and writes `∂L/∂outputs` (both `[rows × outputs]`,
    /// row-major, valid only during the call) and `∂L/∂observation` lands in `gradient`, whose
    /// storage is reused when it already has the observations' shape.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func inputGradient(
        _ observations: Matrix<Scalar>, workspace: Workspace<Scalar>, into gradient: inout Matrix<Scalar>,
        lossGradient: (_ outputs: UnsafePointer<Scalar>, _ outputGradient: UnsafeMutablePointer<Scalar>) -> Void
    ) {
        if let (defense, inner) = outermostDefense {
            gradient =
                defense.outputsAndInputGradient(observations, inner: inner, random: randomForDefenses) { outputs in
                    var outputGradient = Matrix<Scalar>(rows: outputs.rows, columns: outputs.columns)
                    outputs.storage.withUnsafeBufferPointer { z in
                        outputGradient.storage.withUnsafeMutableBufferPointer { lossGradient(z.baseAddress!, $0.baseAddress!) }
                    }
                    return outputGradient
                }.gradient
            return
        }
        let z = scaled(observations)
        z.storage.withUnsafeBufferPointer { network.forward(input: $0.baseAddress!, batch: z.rows, workspace: workspace) }
        lossGradient(workspace.outputPointer, workspace.outputGradient)
        network.backward(
            outputGradient: workspace.outputGradient, workspace: workspace, parameterGradient: nil,
            accumulate: false, wantInputGradient: true)
        if gradient.rows != z.rows || gradient.columns != z.columns { gradient = Matrix(rows: z.rows, columns: z.columns) }
        gradient.storage.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: workspace.gradient, count: $0.count) }
        unscale(&gradient, at: z)
    }

    /// The actions for a batch of observations.
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func actions(_ observations: Matrix<Scalar>, selection: ActionSelection = .mode, random: RandomStream? = nil)
        -> [Action]
    {
        actions(fromOutputs: outputs(observations), selection: selection, random: random)
    }

    /// The actions the policy takes given its outputs (no second forward pass).
    @_specialize(exported:true,where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func actions(fromOutputs outputs: Matrix<Scalar>, selection: ActionSelection = .mode, random: RandomStream? = nil)
        -> [Action]
    {
        head.actions(outputs, selection: selection, random: random)
    }

    /// What depends on the policy's kind: actions from outputs, how outputs compare.
    public var head: any PolicyHead<Scalar> {
        kind.head(logStd: logStd, actionSpace: actionSpace, outputCount: network.outputDimensions)
    }

    /// The same policy in another precision (explicit, never silent).
    public func converted<Other: BLASScalar>(to _: Other.Type) -> Policy<Other> {
        Policy<Other>(
            network: network.converted(to: Other.self), kind: kind, actionSpace: actionSpace, logStd: logStd.map { Other($0) },
            scaling: scaling.map {
                ObservationScaling<Other>(mean: $0.mean.map { Other($0) }, std: $0.std.map { Other($0) }, clip: Other($0.clip))
            },
            critic: critic?.converted(to: Other.self), criticTakesAction: criticTakesAction, defenses: defenses,
            defenseRandom: defenseRandom)
    }
}

/// Index of the largest value (the first of ties).
@inline(__always)
public func argmax<S: Comparable>(_ values: [S]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}

/// A policy kept in both precisions, so that work in either precision uses its own copy (no
/// silent change of precision, and no conversion per call).
public struct PolicyInEitherPrecision: Sendable {
    public let float: Policy<Float>
    public let double: Policy<Double>

    public init(_ policy: Policy<Float>) {
        float = policy
        double = policy.converted(to: Double.self)
    }

    /// The copy in `S`'s precision.
    public func `in`<S: BLASScalar>(_: S.Type) -> Policy<S> {
        S.self == Float.self ? float as! Policy<S> : double as! Policy<S>
    }
}

/// A policy in the precision of the run that owns it (an f64 run's agent stays in f64 where a
/// non-generic holder, such as an environment, keeps it).
public enum AnyPrecisionPolicy: Sendable {
    case float(Policy<Float>)
    case double(Policy<Double>)

    public init<S: BLASScalar>(_ policy: Policy<S>) {
        self = S.self == Float.self ? .float(policy as! Policy<Float>) : .double(policy as! Policy<Double>)
    }

    /// Actions for observations as environments give them (Float), computed in the policy's precision.
    public func actions(_ observations: Matrix<Float>, selection: ActionSelection) -> [Action] {
        switch self {
        case .float(let policy): policy.actions(observations, selection: selection)
        case .double(let policy): policy.actions(observations.converted(to: Double.self), selection: selection)
        }
    }
}
