import Foundation
import Linalg
import NeuralNet

/// The observation statistics of a Stable-Baselines3 `VecNormalize` wrapper, read without Python
/// from the pickle `VecNormalize.save` writes (`vec_normalize.pkl`; rl-zoo's `vecnormalize.pkl`).
///
/// SB3 normalises an observation as `clip((o − mean) / sqrt(var + epsilon), −clip_obs, clip_obs)`
/// with `mean` and `var` of `obs_rms`, a `RunningMeanStd`. The pickle is the whole wrapper
/// object; `RestrictedPickle` reads it with the globals such a file names and nothing else: the
/// wrapper and `RunningMeanStd` classes, the Gymnasium `Box` spaces it keeps, NumPy arrays,
/// dtypes and scalars, and the constructors of the spaces' NumPy random generators. None is
/// called; the reader only collects `obs_rms.mean`, `obs_rms.var`, `epsilon`, `clip_obs` and
/// `norm_obs`.
public struct VecNormalizeStatistics: Equatable, Sendable {
    public var mean: [Double]
    public var variance: [Double]
    public var epsilon: Double
    public var clip: Double
    /// Whether the wrapper normalised observations at all (`norm_obs`).
    public var normalizesObservations: Bool

    /// The globals a `vec_normalize.pkl` may name.
    static let vocabulary = RestrictedPickle.Vocabulary(
        file: "vec_normalize.pkl",
        globals: [
            "stable_baselines3.common.vec_env.vec_normalize.VecNormalize",
            "stable_baselines3.common.running_mean_std.RunningMeanStd",
            "gymnasium.spaces.box.Box", "gym.spaces.box.Box",
            "numpy.dtype", "numpy.ndarray",
            "numpy._core.multiarray._reconstruct", "numpy.core.multiarray._reconstruct",
            "numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar",
            "numpy.random._pickle.__generator_ctor", "numpy.random._pickle.__bit_generator_ctor",
            "numpy.random._pcg64.PCG64", "numpy.random.bit_generator.SeedSequence",
            "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        ])

    /// The normalisation a Gauntlet policy applies to match the wrapper (nil when it did not
    /// normalise observations).
    public var normalization: PolicyDescription.Normalization? {
        guard normalizesObservations else { return nil }
        return .init(mean: mean, std: variance.map { ($0 + epsilon).squareRoot() }, clip: clip)
    }

    public init(contentsOf url: URL) throws(PolicyFileError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PolicyFileError("cannot read \(url.path): \(readProblem(at: url, error))")
        }
        do { try self.init(pickle: [UInt8](data)) } catch { throw PolicyFileError("\(url.path): \(error.description)") }
    }

    /// Reads the bytes of a pickled `VecNormalize`.
    public init(pickle bytes: [UInt8]) throws(StateDictFormatError) {
        let file = Self.vocabulary.file
        guard case .object(let wrapper) = try RestrictedPickle.load(bytes, vocabulary: Self.vocabulary),
            wrapper.className.hasSuffix(".VecNormalize"), case .dict(let state)? = wrapper.state
        else {
            throw StateDictFormatError("\(file): the pickled object is not a VecNormalize")
        }
        func number(_ name: String) throws(StateDictFormatError) -> Double {
            switch state[name] {
            case .float(let value)?: return value
            case .int(let value)?: return Double(value)
            default: throw StateDictFormatError("\(file): VecNormalize has no number '\(name)'")
            }
        }
        guard case .object(let statistics)? = state["obs_rms"], statistics.className.hasSuffix(".RunningMeanStd"),
            case .dict(let fields)? = statistics.state
        else {
            throw StateDictFormatError(
                "\(file): obs_rms is not one RunningMeanStd (dict observation spaces are not supported)")
        }
        func vector(_ name: String) throws(StateDictFormatError) -> [Double] {
            guard case .array(let array)? = fields[name], array.shape.count == 1 else {
                throw StateDictFormatError("\(file): obs_rms.\(name) is not a vector")
            }
            return try array.doubles(file: file)
        }
        mean = try vector("mean")
        variance = try vector("var")
        epsilon = try number("epsilon")
        clip = try number("clip_obs")
        if case .bool(let flag)? = state["norm_obs"] { normalizesObservations = flag } else { normalizesObservations = true }
        guard mean.count == variance.count, !mean.isEmpty else {
            throw StateDictFormatError("\(file): obs_rms.mean has \(mean.count) values, obs_rms.var \(variance.count)")
        }
        guard (mean + variance + [epsilon, clip]).allSatisfy(\.isFinite), variance.allSatisfy({ $0 >= 0 }), epsilon >= 0,
            clip > 0
        else {
            throw StateDictFormatError("\(file): the statistics are not finite, or a variance, epsilon or clip_obs is negative")
        }
    }
}
