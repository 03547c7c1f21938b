import Linalg

/// Throughput of a network's forward and backward passes next to the gemm peak measured in the
/// same run, and the cost of one optimiser step over its parameters (`gauntlet bench nn`).
public struct NetworkBenchmark: Sendable {
    public var batch: Int
    /// The network's modules (an MLP's, MinAtar's, Nature DQN's, …).
    public var modules: [Sequential<Float>.Module]
    /// How the network is named in the results.
    public var name: String
    /// An MLP's layer widths `[in, h₁, …, out]` (nil for other networks).
    public var sizes: [Int]?
    public var repeats: Int
    /// Minimum seconds of repetitions inside one repeat.
    public var minimumSeconds: Double
    /// Side of the square gemm that measures the peak.
    public var peakSize: Int

    public init(
        batch: Int, modules: [Sequential<Float>.Module], name: String, repeats: Int = 5, minimumSeconds: Double = 0.2,
        peakSize: Int = 1024
    ) {
        self.batch = batch
        self.modules = modules
        self.name = name
        self.repeats = repeats
        self.minimumSeconds = minimumSeconds
        self.peakSize = peakSize
    }

    /// An MLP of layer widths `sizes = [in, h₁, …, out]` with `activation` between layers.
    public init(
        batch: Int, sizes: [Int], activation: Activation = .relu, repeats: Int = 5, minimumSeconds: Double = 0.2,
        peakSize: Int = 1024
    ) throws(NetworkError) {
        self.init(
            batch: batch, modules: try Sequential<Float>.mlpModules(sizes: sizes, activation: activation),
            name: "MLP \(sizes.map(String.init).joined(separator: "-")) \(activation.name)", repeats: repeats,
            minimumSeconds: minimumSeconds, peakSize: peakSize)
        self.sizes = sizes
    }

    /// Floating-point operations of one forward pass: two per multiply-add of the Linear
    /// (`batch · in · out`) and Conv2d (`batch · outputs · in·k·k`) layers.
    public var forwardFlops: Double {
        modules.reduce(0) { total, module in
            switch module {
            case .linear(let inputs, let outputs): total + 2 * Double(batch * inputs * outputs)
            case .conv2d(let conv): total + 2 * Double(batch * conv.outputSize * conv.fanIn)
            case .activation, .maxPool2d, .flatten: total
            }
        }
    }

    /// Forward plus a backward pass to parameters and input: three products per layer.
    public var forwardBackwardFlops: Double { 3 * forwardFlops }

    public struct Result: Sendable, Codable {
        public var precision: Precision
        public var batch: Int
        public var network: String
        public var sizes: [Int]?
        public var blasThreads: Int
        public var forwardSeconds: TimingSummary
        public var forwardBackwardSeconds: TimingSummary
        public var forwardBackwardGflops: Double
        public var gemmPeakSize: Int
        public var gemmPeakGflops: Double
        public var fractionOfPeak: Double
        public var parameterCount: Int
        /// One step of Adam (PyTorch's defaults) over the network's parameters.
        public var adamStepSeconds: TimingSummary
        /// One step of centred RMSProp (the MinAtar paper's DQN settings) over them.
        public var rmspropStepSeconds: TimingSummary
    }

    /// Runs the benchmark in precision `Scalar`.
    public func run<Scalar: BLASScalar>(_: Scalar.Type) throws(NetworkError) -> Result {
        let random = RandomStream(seed: 0)
        let network = try Sequential<Float>(modules: modules, random: random).converted(to: Scalar.self)
        let (inputs, outputs) = (network.inputDimensions, network.outputDimensions)
        let input = Matrix<Scalar>(
            rows: batch, columns: inputs, storage: (0..<(batch * inputs)).map { _ in Scalar(random.normal()) })
        let outputGradient = Matrix<Scalar>(
            rows: batch, columns: outputs, storage: (0..<(batch * outputs)).map { _ in Scalar(random.normal()) })
        var gradient = [Scalar](repeating: 0, count: network.parameterCount)
        let workspace = Workspace(for: network, batch: batch)

        let forward = input.storage.withUnsafeBufferPointer { x in
            TimingSummary.measure(repeats: repeats, minimumSeconds: minimumSeconds) {
                network.forward(input: x.baseAddress!, batch: batch, workspace: workspace)
            }
        }
        let forwardBackward = input.storage.withUnsafeBufferPointer { x in
            outputGradient.storage.withUnsafeBufferPointer { g in
                gradient.withUnsafeMutableBufferPointer { pg in
                    TimingSummary.measure(repeats: repeats, minimumSeconds: minimumSeconds) {
                        network.forward(input: x.baseAddress!, batch: batch, workspace: workspace)
                        network.backward(
                            outputGradient: g.baseAddress!, workspace: workspace, parameterGradient: pg.baseAddress!,
                            accumulate: false, wantInputGradient: true)
                    }
                }
            }
        }
        var parameters = network.parameters
        var adam = Adam<Scalar>(parameterCount: network.parameterCount, learningRate: 2.5e-4)
        let adamStep = TimingSummary.measure(repeats: repeats, minimumSeconds: minimumSeconds) {
            adam.update(&parameters, gradient: gradient)
        }
        var rmsprop = RMSProp<Scalar>(
            parameterCount: network.parameterCount, learningRate: 2.5e-4, alpha: 0.95, epsilon: 0.01, centered: true)
        let rmspropStep = TimingSummary.measure(repeats: repeats, minimumSeconds: minimumSeconds) {
            rmsprop.update(&parameters, gradient: gradient)
        }
        let peak = gemmThroughput(Scalar.self, size: peakSize, repeats: repeats, minimumSeconds: minimumSeconds)
        let peakGflops = 2 * Double(peakSize * peakSize) * Double(peakSize) / peak.minimum / 1e9
        let gflops = forwardBackwardFlops / forwardBackward.minimum / 1e9
        return Result(
            precision: Precision(of: Scalar.self), batch: batch, network: name, sizes: sizes, blasThreads: BLAS.threads,
            forwardSeconds: forward,
            forwardBackwardSeconds: forwardBackward, forwardBackwardGflops: gflops, gemmPeakSize: peakSize,
            gemmPeakGflops: peakGflops, fractionOfPeak: gflops / peakGflops, parameterCount: network.parameterCount,
            adamStepSeconds: adamStep, rmspropStepSeconds: rmspropStep)
    }
}
