import Foundation

/// Wall-clock timing for benchmarks: repeated measurements summarised by min and median, as
/// noisy shared machines require.
public struct TimingSummary: Equatable, Sendable, Codable {
    /// Every measurement, in seconds.
    public var samples: [Double]
    public var minimum: Double { samples.min() ?? .nan }
    public var median: Double { Statistics.median(samples) }

    public init(samples: [Double]) { self.samples = samples }

    /// Runs `body` `repeats` times, each time for at least `minimumSeconds` of repetitions, and
    /// records the seconds per call of each repeat.
    public static func measure(repeats: Int, minimumSeconds: Double, _ body: () -> Void) -> TimingSummary {
        body()  // warm-up: first-touch page faults, lazy BLAS initialisation
        var samples: [Double] = []
        for _ in 0..<repeats {
            var calls = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                body()
                calls += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < minimumSeconds
            samples.append(elapsed / Double(calls))
        }
        return TimingSummary(samples: samples)
    }
}

/// The throughput of a square matrix product (`sgemm`/`dgemm`) of side `size`, in GFLOP/s: the
/// peak a network's products are compared with.
public func gemmThroughput<Scalar: BLASScalar>(
    _: Scalar.Type, size: Int, repeats: Int = 5, minimumSeconds: Double = 0.2
) -> TimingSummary {
    let random = RandomStream(seed: 1)
    let a = (0..<(size * size)).map { _ in Scalar(random.uniform(-1, 1)) }
    let b = (0..<(size * size)).map { _ in Scalar(random.uniform(-1, 1)) }
    var c = [Scalar](repeating: 0, count: size * size)
    return a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                TimingSummary.measure(repeats: repeats, minimumSeconds: minimumSeconds) {
                    Scalar.gemm(
                        transposeA: false, transposeB: false, m: size, n: size, k: size, alpha: 1,
                        a: pa.baseAddress!, lda: size, b: pb.baseAddress!, ldb: size,
                        beta: 0, c: pc.baseAddress!, ldc: size)
                }
            }
        }
    }
}
