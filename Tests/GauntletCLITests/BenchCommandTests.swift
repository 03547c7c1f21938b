import Foundation
import TestSupport
import Testing

/// The benchmarks run end to end and report consistent numbers (tiny sizes: timings in tests
/// measure nothing; the real figures come from `gauntlet bench`).
@Suite struct BenchCommandTests {
    @Test func nnBenchmarkPrintsItsJSON() throws {
        let run = try runGauntlet([
            "bench", "nn", "--batch", "4", "--hidden", "8", "--repeats", "2", "--seconds", "0.01", "--peak-size", "32", "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        let gflops = object["forward_backward_gflops"] as! Double
        let peak = object["gemm_peak_gflops"] as! Double
        #expect(gflops > 0 && peak > 0)
        #expect(abs(object["fraction_of_peak"] as! Double - gflops / peak) < 1e-12)
        #expect(object["sizes"] as? [Int] == [8, 8, 8, 8] && object["blas_threads"] as? Int == 1)
    }

    /// A pixel network: its name in the result, FLOPs counted through the convolutions (the
    /// forward+backward rate from its own timing), no MLP sizes.
    @Test func nnBenchmarkOfAPixelNetwork() throws {
        let run = try runGauntlet([
            "bench", "nn", "--network", "minatar", "--batch", "2", "--repeats", "1", "--seconds", "0.01", "--peak-size", "32",
            "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        #expect(object["network"] as? String == "minatar" && object["sizes"] == nil)
        // 2 images: conv 2·1024·36, Linear 2·1024·128 and 2·128·6 multiply-adds, two FLOPs each, three passes.
        let flops = 3.0 * 2 * 2 * Double(1024 * 36 + 1024 * 128 + 128 * 6)
        let seconds = (object["forward_backward_seconds"] as! [String: Any])["samples"] as! [Double]
        #expect(abs(object["forward_backward_gflops"] as! Double - flops / seconds.min()! / 1e9) < 1e-9)
        // The optimiser steps run over every parameter: conv 16·4·9 + 16, Linear 1024·128 + 128, 128·6 + 6.
        #expect(object["parameter_count"] as? Int == 16 * 4 * 9 + 16 + 1024 * 128 + 128 + 128 * 6 + 6)
        for key in ["adam_step_seconds", "rmsprop_step_seconds"] {
            let samples = (object[key] as! [String: Any])["samples"] as! [Double]
            #expect(samples.count == 1 && samples[0] > 0, "\(key)")
        }
        let bad = try runGauntlet(["bench", "nn", "--network", "resnet"])
        #expect(bad.status == 2 && bad.standardError.contains("unknown network 'resnet' (expected minatar, nature-dqn)"))
    }

    @Test func envBenchmarkPrintsItsJSON() throws {
        let run = try runGauntlet(["bench", "env", "--envs", "1", "--envs", "4", "--steps", "2000", "--repeats", "2", "--json"])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as! [String: Any]
        let results = object["results"] as! [[String: Any]]
        #expect(results.map { $0["copies"] as! Int } == [1, 4])
        #expect(results.allSatisfy { ($0["steps_per_second_best"] as! Double) > 0 })
    }

    @Test func badOptionsAreExitCodeTwo() throws {
        let run = try runGauntlet(["bench", "nn", "--batch", "0"])
        #expect(run.status == 2 && run.standardError.contains("--batch must be positive"))
        let precision = try runGauntlet(["bench", "nn", "--precision", "f16"])
        #expect(precision.status == 2)
    }
}
