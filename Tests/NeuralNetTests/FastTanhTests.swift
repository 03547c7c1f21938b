import Foundation
import NeuralNet
import Testing

/// The vectorised Float32 tanh against libm over a dense sweep of inputs.
@Suite struct FastTanhTests {
    @Test func agreesWithLibmToAFewUlp() {
        var worstUlps: Float = 0
        var worstAbsolute: Float = 0
        // A uniform grid over [−12, 12] and a geometric one towards 0, both signs.
        let uniform = (0...120_000).map { Float(-12 + 24 * Double($0) / 120_000) }
        let small = (0...20_000).flatMap { i -> [Float] in
            let magnitude = Float(Foundation.pow(10.0, -8 + 9 * Double(i) / 20_000))
            return [magnitude, -magnitude]
        }
        for x in uniform + small {
            let approximate = fastTanh(SIMD8(repeating: x))[0]
            let exact = Foundation.tanh(x)
            worstAbsolute = max(worstAbsolute, abs(approximate - exact))
            worstUlps = max(worstUlps, abs(approximate - exact) / max(exact.ulp, Float.leastNormalMagnitude))
            #expect(abs(approximate) <= 1)
        }
        print("fastTanh: max |error| \(worstAbsolute), \(worstUlps) ulp")
        #expect(worstAbsolute < 6e-7, "max absolute error \(worstAbsolute)")
        #expect(worstUlps <= 6, "max error \(worstUlps) ulp")
    }

    @Test func bufferVersionMatchesLanesIncludingTheTail() {
        let input: [Float] = (0..<29).map { Float($0) * 0.37 - 5 }
        var output = [Float](repeating: .nan, count: 29)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in fastTanh(x.baseAddress!, into: y.baseAddress!, count: 29) }
        }
        for (x, y) in zip(input, output) { #expect(y == fastTanh(SIMD8(repeating: x))[0]) }
        #expect(fastTanh(SIMD8(repeating: 0))[0] == 0 && fastTanh(SIMD8(repeating: 1e-30))[0] == 1e-30)
    }

    /// The AVX path (CKernels) gives the same bits as the Swift SIMD path on every kind of
    /// input — a dense sweep of ±10, the clamp and the tiny-input boundaries, ±0, ±∞, NaN —
    /// so choosing it by CPU cannot change what a training run computes.
    @Test func wideVersionIsBitIdentical() {
        var input: [Float] = stride(from: -10, through: 10, by: 0.000_37).map { Float($0) }
        for edge: Float in [7.90531110763549805, 0.0004, 1e-30, 0, 3.4e38, .infinity, .leastNonzeroMagnitude] {
            input += [edge, -edge, edge.nextUp, edge.nextDown, -edge.nextUp, -edge.nextDown]
        }
        input += [.nan, -.nan, Float(bitPattern: 0x7FC0_1234)]
        var wide = [Float](repeating: 0, count: input.count)
        var narrow = wide
        input.withUnsafeBufferPointer { x in
            wide.withUnsafeMutableBufferPointer {
                fastTanh(x.baseAddress!, into: $0.baseAddress!, count: input.count, wide: true)
            }
            narrow.withUnsafeMutableBufferPointer {
                fastTanh(x.baseAddress!, into: $0.baseAddress!, count: input.count, wide: false)
            }
        }
        let differing = (0..<input.count).filter { wide[$0].bitPattern != narrow[$0].bitPattern }
        #expect(
            differing.isEmpty,
            "\(differing.count) of \(input.count) differ, first at x = \(differing.first.map { input[$0] } ?? 0)")
    }
}
