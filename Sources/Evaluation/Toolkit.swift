import Agents
import Attacks
import Defenses
import Environments
import Foundation
import Linalg
import NeuralNet

/// Gauntlet's parts assembled in one place: the attacks, the defenses policy files may hold, the
/// environment families and the robust-training methods. Lower modules never look parts up in
/// a global table; they are handed what they need from here (`policies` to read policy files,
/// `training` to build learners, `attackContext` to make attacks). Nothing needs registering:
/// `Toolkit.standard` is ready in a fresh process, and a copy extended with `adding(…)` carries
/// a new attack or training method everywhere the toolkit goes.
public struct Toolkit: Sendable {
    public var attacks: AttackRegistry
    /// The inference-time defenses policy files may hold and `--transform` may make.
    public var defenseKinds: [DefenseKind]
    /// Robust-training methods beyond Gauntlet's own (which make their attacks from `attacks`).
    public var extraRobustMethods: [RobustTrainingMethod]
    /// Environment families beyond the built-in ones and `adversary:`.
    public var extraEnvironmentFamilies: [EnvironmentFamily]

    public init(
        attacks: AttackRegistry = .standard, defenseKinds: [DefenseKind] = Defenses.kinds,
        extraRobustMethods: [RobustTrainingMethod] = [], extraEnvironmentFamilies: [EnvironmentFamily] = []
    ) {
        self.attacks = attacks
        self.defenseKinds = defenseKinds
        self.extraRobustMethods = extraRobustMethods
        self.extraEnvironmentFamilies = extraEnvironmentFamilies
    }

    /// Every part Gauntlet ships.
    public static let standard = Toolkit()

    /// This toolkit with one more attack.
    public func adding(_ attack: AttackDescription) -> Toolkit {
        var copy = self
        copy.attacks = attacks.adding(attack)
        return copy
    }

    /// This toolkit with one more inference-time defense.
    public func adding(_ defense: DefenseKind) -> Toolkit {
        var copy = self
        copy.defenseKinds.append(defense)
        return copy
    }

    /// The decoders of the defenses policy files may hold.
    public var defenses: [DefenseDecoder] { defenseKinds.map(\.decoder) }

    /// The input transformation a `--transform` spec describes.
    public func transformation(_ spec: String, context: TransformationContext) throws(DefenseError) -> any PolicyDefense {
        try Defenses.transformation(spec, context: context, kinds: defenseKinds)
    }

    /// This toolkit with one more robust-training method.
    public func adding(_ method: RobustTrainingMethod) -> Toolkit {
        var copy = self
        copy.extraRobustMethods.append(method)
        return copy
    }

    /// The environments: built-in ones, the extra families, and `adversary:` (whose victims are
    /// read with this toolkit's defenses).
    public var environments: EnvironmentRegistry {
        let base = extraEnvironmentFamilies.reduce(EnvironmentRegistry.builtIn) { $0.adding($1) }
        return base.adding(AdversaryEnvironment.family(decoding: PolicyDecoding(defenses: defenses, environments: base)))
    }

    /// How policy files are read.
    public var policies: PolicyDecoding { PolicyDecoding(defenses: defenses, environments: environments) }

    public var robustMethods: [RobustTrainingMethod] { Defenses.robustTrainingMethods(attacks: attacks) + extraRobustMethods }

    /// What learners are built from.
    public var training: TrainingComponents { TrainingComponents(environments: environments, robustMethods: robustMethods) }

    /// What attacks load their surrogates and adversaries with.
    public var attackContext: AttackContext {
        let decoding = policies
        return AttackContext { path throws(PolicyFileError) in
            try Policy.load(contentsOf: URL(fileURLWithPath: path), decoding: decoding)
        }
    }

    /// Reads a policy file, defenses included.
    public func loadPolicy(contentsOf url: URL) throws(PolicyFileError) -> Policy<Float> {
        try Policy.load(contentsOf: url, decoding: policies)
    }

    /// The policy in a parsed policy file, defenses included.
    public func policy(_ file: PolicyFile) throws(PolicyFileError) -> Policy<Float> { try Policy(file: file, decoding: policies) }

    /// The attack a spec string describes.
    public func makeAttack(_ spec: String) throws(AttackError) -> any Attack { try attacks.make(spec, context: attackContext) }

    /// Parses a training config with this toolkit's robust-training methods.
    public func trainingConfig(contentsOf url: URL) throws(ConfigError) -> TrainingConfig {
        try TrainingConfig(contentsOf: url, robustMethods: robustMethods)
    }

    /// Parses training-config text with this toolkit's robust-training methods.
    public func trainingConfig(yaml: String, file: String) throws(ConfigError) -> TrainingConfig {
        try TrainingConfig(yaml: yaml, file: file, robustMethods: robustMethods)
    }
}
