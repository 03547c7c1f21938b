import Agents
import Linalg
import NeuralNet

/// An ensemble policy: K networks of the same kind (different seeds, or different
/// hyperparameters) acting as one — the policy's own network is member 0, `members` the others
/// — with outputs combined by an `Aggregation`. It is attacked as a whole: the white-box gradient
/// goes through the aggregation (exactly for mean, median and trimmed means; by BPDA through the
/// mean for a vote). The stronger transfer alternative for a vote — a perturbation computed on
/// the mean ensemble — is `transfer:surrogate=MEAN_ENSEMBLE_FILE`.
///
/// Every member sees the policy's observation scaling. An ensemble wraps the undefended policy
/// directly (input transformations go outside it).
public struct Ensemble: PolicyDefense {
    public var members: [Sequential<Float>]
    public var aggregation: Aggregation

    public static let kind = DefenseKind(
        type: "ensemble", summary: "several networks acting as one (gauntlet defend --member)",
        decode: { stored, file, inner throws(DefenseError) in
            guard inner.defenses.isEmpty else { throw DefenseError("an ensemble must be the innermost defense") }
            var members: [Sequential<Float>] = []
            do throws(PolicyFileError) {
                for (m, architecture) in (try stored.architectures("members") ?? []).enumerated() {
                    var tensors: [String: Safetensors.Tensor] = [:]
                    let prefix = "member\(m + 1)."
                    for (name, tensor) in file.extraTensors where name.hasPrefix(prefix) {
                        tensors[String(name.dropFirst(prefix.count))] = tensor
                    }
                    do throws(PolicyFileError) {
                        members.append(
                            try PolicyFile.network(modules: try architecture.sequentialModules(), takingFrom: &tensors))
                    } catch { throw PolicyFileError("ensemble member \(m + 1): \(error.description)") }
                }
            } catch { throw DefenseError(error.description) }
            return try Ensemble(
                members: members,
                aggregation: try Aggregation(name: stored.string("aggregation") ?? "mean", trim: stored.integer("trim")),
                discrete: inner.head.isDiscrete, base: inner.network)
        })

    public init(members: [Sequential<Float>], aggregation: Aggregation, discrete: Bool, base: Sequential<Float>)
        throws(DefenseError)
    {
        guard !members.isEmpty else {
            throw DefenseError("an ensemble needs at least one member besides the policy's own network")
        }
        for (m, member) in members.enumerated()
        where member.inputDimensions != base.inputDimensions || member.outputDimensions != base.outputDimensions {
            throw DefenseError(
                "ensemble member \(m + 1) maps \(member.inputDimensions) → \(member.outputDimensions) values; the policy maps \(base.inputDimensions) → \(base.outputDimensions)"
            )
        }
        try aggregation.validate(count: members.count + 1, discrete: discrete)
        self.members = members
        self.aggregation = aggregation
    }

    public var spec: String {
        "ensemble:aggregation=\(aggregation.name)\(aggregation.trim.map { ",trim=\($0)" } ?? ""),members=\(members.count + 1)"
    }
    public var isRandomized: Bool { false }

    public var stored: (description: DefenseDescription, tensors: [String: Safetensors.Tensor]) {
        var tensors: [String: Safetensors.Tensor] = [:]
        for (m, member) in members.enumerated() {
            tensors.merge(PolicyFile.stateDict(of: member, prefix: "member\(m + 1).")) { $1 }
        }
        return (
            DefenseDescription(
                type: Self.kind.type,
                parameters: [
                    "aggregation": .string(aggregation.name),
                    "members": try! JSONValue(encoding: members.map { PolicyDescription.Architecture($0.modules) }),
                ].merging(aggregation.trim.map { ["trim": .number(Double($0))] } ?? [:]) { $1 }), tensors
        )
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func memberOutputs<S: BLASScalar>(_ observations: Matrix<S>, inner: Policy<S>) -> (
        z: Matrix<S>, networks: [Sequential<S>], outputs: [Matrix<S>]
    ) {
        precondition(inner.defenses.isEmpty, "an ensemble wraps the undefended policy")
        let z = inner.scaled(observations)
        // Members are kept in Float32; a Float64 evaluation (the reference path) converts them.
        let others = (members as? [Sequential<S>]) ?? members.map { $0.converted(to: S.self) }
        let networks = [inner.network] + others
        return (z, networks, networks.map { $0.forward(z, workspace: Workspace(for: $0, batch: z.rows)) })
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func outputs<S: BLASScalar>(_ observations: Matrix<S>, inner: Policy<S>, random: RandomStream) -> Matrix<S> {
        aggregation.combine(memberOutputs(observations, inner: inner).outputs).aggregate
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func outputsAndInputGradient<S: BLASScalar>(
        _ observations: Matrix<S>, inner: Policy<S>, random: RandomStream,
        lossGradient: (Matrix<S>) -> Matrix<S>
    ) -> (outputs: Matrix<S>, gradient: Matrix<S>) {
        let (z, networks, outputs) = memberOutputs(observations, inner: inner)
        let (aggregate, weights) = aggregation.combine(outputs)
        let outputGradient = lossGradient(aggregate)
        var gradient = Matrix<S>(rows: z.rows, columns: z.columns)
        for (network, weight) in zip(networks, weights) {
            let memberGradient = Matrix(
                rows: outputGradient.rows, columns: outputGradient.columns,
                storage: zip(outputGradient.storage, weight.storage).map { $0 * $1 })
            gradient = gradient + network.inputGradient(z, outputGradient: memberGradient, workspace: nil)
        }
        return (aggregate, inner.unscaledGradient(gradient, at: z))
    }
}
