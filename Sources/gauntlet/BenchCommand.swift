import ArgumentParser
import Attacks
import Environments
import Evaluation
import Foundation
import Linalg
import NeuralNet

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Gauntlet's speed.",
        subcommands: [BenchNN.self, BenchEnv.self, BenchAttack.self])
}

struct BenchNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Forward+backward throughput of a network next to the gemm peak of this machine.",
        discussion: """
            The network is an MLP of sizes [input, hidden × (layers − 1), output] (input and \
            output default to the hidden size), or with --network one of the pixel networks: \
            minatar (MinAtar's DQN: a 3×3 convolution with 16 channels over 10×10×4, FC 128, 6 \
            actions) or nature-dqn (Mnih et al. 2015 over 84×84×4, 18 actions). Throughput counts \
            three products per Linear or Conv2d layer (forward, weight gradient, input gradient). \
            The peak is a square gemm of side --peak-size measured in the same run and the same \
            precision. Timings are the minimum and median of --repeats repeats.
            """)

    /// The pixel networks `--network` names, and their modules.
    static let networkNames = ["minatar", "nature-dqn"]
    static func networkModules(_ name: String) throws(NetworkError) -> [Sequential<Float>.Module] {
        name == "minatar"
            ? try Sequential<Float>.minAtarModules(channels: 4, actions: 6) : try Sequential<Float>.natureDQNModules(actions: 18)
    }

    @Option(help: "A pixel network instead of an MLP: minatar or nature-dqn.") var network: String?

    @Option(help: "Rows per batch.") var batch = 256
    @Option(help: "Width of the hidden layers.") var hidden = 256
    @Option(help: "Number of Linear layers.") var layers = 3
    @Option(help: "Input width (default: the hidden width).") var input: Int?
    @Option(help: "Output width (default: the hidden width).") var output: Int?
    @Option(help: "Activation: relu, tanh, leaky_relu.") var activation = "relu"
    @OptionGroup var precision: PrecisionOption
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Option(help: "Repeats (min and median are reported).") var repeats = 5
    @Option(help: "Seconds of repetitions per repeat.") var seconds = 0.2
    @Option(help: "Side of the square gemm measuring the peak.") var peakSize = 1024
    @OptionGroup var format: JSONOption

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        guard hidden > 0 else { throw ValidationError("--hidden must be positive, got \(hidden)") }
        guard layers >= 1 else { throw ValidationError("--layers must be at least 1, got \(layers)") }
        guard (input ?? 1) > 0, (output ?? 1) > 0 else { throw ValidationError("--input and --output must be positive") }
        guard Activation(name: activation) != nil else {
            throw ValidationError("--activation: unknown activation '\(activation)' (expected relu, tanh, leaky_relu)")
        }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be positive") }
        guard peakSize > 0 else { throw ValidationError("--peak-size must be positive") }
        if let network, !Self.networkNames.contains(network) {
            throw ValidationError(
                "--network: unknown network '\(network)' (expected \(Self.networkNames.joined(separator: ", ")))")
        }
    }

    func run() throws {
        BLAS.setThreads(threads)
        let benchmark: NetworkBenchmark
        if let network {
            benchmark = NetworkBenchmark(
                batch: batch, modules: try Self.networkModules(network), name: network, repeats: repeats, minimumSeconds: seconds,
                peakSize: peakSize)
        } else {
            let sizes = [input ?? hidden] + Array(repeating: hidden, count: layers - 1) + [output ?? hidden]
            benchmark = try NetworkBenchmark(
                batch: batch, sizes: sizes, activation: Activation(name: activation)!, repeats: repeats,
                minimumSeconds: seconds, peakSize: peakSize)
        }
        let result = try precision.dispatch(benchmark)
        if format.json {
            try printJSON(result)
        } else {
            print("\(result.network), batch \(batch), \(precision.precision.rawValue), \(result.blasThreads) BLAS thread(s)")
            print(
                String(
                    format: "forward:           %10.3f µs (median %.3f µs)", result.forwardSeconds.minimum * 1e6,
                    result.forwardSeconds.median * 1e6))
            print(
                String(
                    format: "forward+backward:  %10.3f µs (median %.3f µs)", result.forwardBackwardSeconds.minimum * 1e6,
                    result.forwardBackwardSeconds.median * 1e6))
            print(String(format: "forward+backward:  %10.2f GFLOP/s", result.forwardBackwardGflops))
            print(String(format: "gemm peak (%d³):  %10.2f GFLOP/s", result.gemmPeakSize, result.gemmPeakGflops))
            print(String(format: "fraction of peak:  %10.1f %%", result.fractionOfPeak * 100))
            for (name, step) in [("Adam", result.adamStepSeconds), ("centred RMSProp", result.rmspropStepSeconds)] {
                print(
                    "\(name) step over \(result.parameterCount) parameters: "
                        + String(format: "%.3f µs (median %.3f µs)", step.minimum * 1e6, step.median * 1e6))
            }
        }
    }
}

struct BenchEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Raw environment throughput (steps per second) under random actions, with auto-reset.")

    @Option(help: "Environment id.") var env = "CartPole-v1"
    @Option(name: .customLong("envs"), help: "Number of vectorised copies (repeatable).") var copies: [Int] = [1, 16]
    @Option(help: "Threads stepping the copies (repeatable; results are identical for any count).") var threads: [Int] = [1]
    @Option(help: "Environment steps per repeat (summed over copies).") var steps = 200_000
    @Option(help: "Repeats (min and median are reported).") var repeats = 5
    @OptionGroup var format: JSONOption

    func validate() throws {
        guard copies.allSatisfy({ $0 > 0 && $0 <= 4096 }) else { throw ValidationError("--envs must lie in 1...4096") }
        guard threads.allSatisfy({ $0 > 0 && $0 <= 256 }) else { throw ValidationError("--threads must lie in 1...256") }
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
    }

    func run() throws {
        var results: [EnvironmentBenchmark.Result] = []
        for count in copies {
            for threadCount in threads {
                do {
                    results.append(
                        try EnvironmentBenchmark(
                            environment: env, copies: count, steps: steps, repeats: repeats, threads: threadCount
                        ).run())
                } catch {
                    throw ValidationError(error.description)
                }
            }
        }
        // A MuJoCo environment is also timed against the bare physics it wraps (one copy).
        var physics: [MuJoCoBenchmark.Result] = []
        if Registry.mujoco.contains(where: { $0.id == env }) {
            do { physics.append(try MuJoCoBenchmark(environment: env, steps: min(steps, 100_000), repeats: repeats).run()) } catch
            {
                throw ValidationError(error.description)
            }
        }
        if format.json {
            try printJSON(EnvironmentBenchmarkReport(results: results, mujoco: physics))
        } else {
            for r in results {
                print(
                    String(
                        format: "%@ × %d on %d thread(s): %.0f steps/s (median %.0f)", r.environment, r.copies, r.threads,
                        r.stepsPerSecondBest, r.stepsPerSecondMedian))
            }
            for r in physics {
                print(
                    String(
                        format:
                            "%@ bare physics (mj_step × frame skip replaying the same controls and reset states, alternating chunks): %.0f steps/s; the environment %.0f steps/s, overhead %.1f%%%@",
                        r.environment, r.physicsStepsPerSecond, r.environmentStepsPerSecond, 100 * r.overhead,
                        r.replayMatches ? "" : " (the replay diverged from the environment: not the same physics)"))
            }
        }
    }
}

/// `{"benchmark": "env", "results": [...], "mujoco": [...]}`.
struct EnvironmentBenchmarkReport: Encodable {
    var benchmark = "env"
    var results: [EnvironmentBenchmark.Result]
    var mujoco: [MuJoCoBenchmark.Result]
}

struct BenchAttack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attack",
        abstract: "Attacked-evaluation throughput: env steps per second with an attack at every step (MLP policy, auto-reset).")

    @Option(help: "Environment id.") var env = "CartPole-v1"
    @Option(name: .customLong("envs"), help: "Vectorised copies (repeatable).") var copies: [Int] = [1, 16]
    @Option(name: .customLong("attack"), help: "Attack spec (repeatable).") var attacks: [String] = [
        "none", "fgsm", "pgd:steps=10,alpha_ratio=0.25",
    ]
    @Option(parsing: .unconditional, help: "ε (L∞, raw units).", transform: parseEpsilon) var eps = 0.1
    @Option(help: "Environment steps per repeat (summed over copies).") var steps = 20_000
    @Option(help: "Repeats (min and median are reported).") var repeats = 3
    @OptionGroup var format: JSONOption

    struct Report: Encodable {
        var benchmark = "attack"
        var results: [AttackThroughputBenchmark.Result]
    }

    func validate() throws {
        guard copies.allSatisfy({ $0 > 0 && $0 <= 4096 }), steps > 0, repeats > 0 else {
            throw ValidationError("--envs, --steps and --repeats must be positive")
        }
        for spec in attacks {
            do { _ = try Toolkit.standard.makeAttack(spec) } catch {
                throw ValidationError("--attack \(spec): \(error.description)")
            }
        }
    }

    func run() throws {
        BLAS.setThreads(1)
        var results: [AttackThroughputBenchmark.Result] = []
        for attack in attacks {
            for count in copies {
                let benchmark = AttackThroughputBenchmark(
                    environment: env, copies: count, attack: attack, epsilon: eps,
                    vectorSteps: max(1, steps / count), repeats: repeats)
                do { results.append(try benchmark.run()) } catch { throw ValidationError("\(error)") }
            }
        }
        if format.json {
            try printJSON(Report(results: results))
        } else {
            for r in results {
                print(
                    String(
                        format: "%@ × %d, %@: %.0f steps/s (median %.0f)", r.environment, r.copies, r.attack,
                        r.stepsPerSecondBest, r.stepsPerSecondMedian))
            }
        }
    }
}

/// Prints `value` as one JSON object on standard output (snake_case keys, sorted).
func printJSON<T: Encodable>(_ value: T) throws {
    print(String(decoding: try JSONEncoder.gauntlet().encode(value), as: UTF8.self))
}

extension NetworkBenchmark: PrecisionGeneric {
    func run<S: BLASScalar>(as scalar: S.Type) throws -> Result { try run(scalar) }
}
