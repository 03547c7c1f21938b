import Linalg

/// Throughput of a network's forward and backward passes next to the gemm peak measured in the
/// same run (`gauntlet bench nn`).
public struct NetworkBenchmark: Sendable {
    public var batch: Int
    /// Layer widths `[in, h₁, …, out]`.
    public var sizes: [Int]
    public var activation: Activation
    public var repeats: Int
    /// Minimum seconds of repetitions inside one repeat.
    public var minimumSeconds: Double
    /// Side of the square gemm that measures the peak.
    public var peakSize: Int

    public init(
        batch: Int, sizes: [Int], activation: Activation = .relu, repeats: Int = 5,
        minimumSeconds: Double = 0.2, peakSize: Int = 1024
    ) {
        self.batch = batch
        self.sizes = sizes
        self.activation = activation
        self.repeats = repeats
        self.minimumSeconds = minimumSeconds
        self.peakSize = peakSize
    }

    /// Floating-point operations of one forward pass: `2 · batch · Σ in·out`.
    public var forwardFlops: Double {
        2 * Double(batch) * zip(sizes, sizes.dropFirst()).reduce(0) { $0 + Double($1.0 * $1.1) }
    }

    /// Forward plus a backward pass to parameters and input: three products per Linear layer.
    public var forwardBackwardFlops: Double { 3 * forwardFlops }

    public struct Result: Sendable, Codable {
        public var precision: Precision
        public var batch: Int
        public var sizes: [Int]
        public var activation: String
        public var blasThreads: Int
        public var forwardSeconds: TimingSummary
        public var forwardBackwardSeconds: TimingSummary
        public var forwardBackwardGflops: Double
        public var gemmPeakSize: Int
        public var gemmPeakGflops: Double
        public var fractionOfPeak: Double
    }

    /// Runs the benchmark in precision `Scalar`.
    public func run<Scalar: BLASScalar>(_: Scalar.Type) throws(NetworkError) -> Result {
        let random = RandomStream(seed: 0)
        let network = try Sequential<Scalar>.mlp(sizes: sizes, activation: activation, random: random)
        let input = Matrix<Scalar>(
            rows: batch, columns: sizes[0], storage: (0..<(batch * sizes[0])).map { _ in Scalar(random.normal()) })
        let outputGradient = Matrix<Scalar>(
            rows: batch, columns: sizes.last!, storage: (0..<(batch * sizes.last!)).map { _ in Scalar(random.normal()) })
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
        let peak = gemmThroughput(Scalar.self, size: peakSize, repeats: repeats, minimumSeconds: minimumSeconds)
        let peakGflops = 2 * Double(peakSize * peakSize) * Double(peakSize) / peak.minimum / 1e9
        let gflops = forwardBackwardFlops / forwardBackward.minimum / 1e9
        return Result(
            precision: Precision(of: Scalar.self), batch: batch, sizes: sizes,
            activation: activation.name, blasThreads: BLAS.threads, forwardSeconds: forward,
            forwardBackwardSeconds: forwardBackward, forwardBackwardGflops: gflops, gemmPeakSize: peakSize,
            gemmPeakGflops: peakGflops, fractionOfPeak: gflops / peakGflops)
    }
}
