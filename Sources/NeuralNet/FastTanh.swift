import CKernels

/// tanh for Float32, eight lanes at a time: the rational minimax approximation of Eigen and XLA
/// (a degree-13 odd numerator over a degree-6 even denominator, inputs clamped to ±7.9053,
/// `x` itself below 4·10⁻⁴). At these network sizes a libm `tanhf` per activation costs more
/// than the matrix products; this stays within a few ulp of it (tested against libm).
@inline(__always)
public func fastTanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let clamp: Float = 7.90531110763549805
    var v = x
    v.replace(with: clamp, where: v .> clamp)
    v.replace(with: -clamp, where: v .< -clamp)
    let v2 = v * v
    var p = v2 * -2.76076847742355e-16 + 2.00018790482477e-13
    p = p * v2 + -8.60467152213735e-11
    p = p * v2 + 5.12229709037114e-08
    p = p * v2 + 1.48572235717979e-05
    p = p * v2 + 6.37261928875436e-04
    p = p * v2 + 4.89352455891786e-03
    p = p * v
    var q = v2 * 1.19825839466702e-06 + 1.18534705686654e-04
    q = q * v2 + 2.26843463243900e-03
    q = q * v2 + 4.89352518554385e-03
    var result = p / q
    let tiny = (x .< SIMD8<Float>(repeating: 0.0004)) .& (x .> SIMD8<Float>(repeating: -0.0004))
    result.replace(with: x, where: tiny)
    return result
}

/// `y[i] = tanh(x[i])` for Float32 buffers (see `fastTanh(_:)`): whole groups of eight through
/// the AVX version in CKernels where the CPU has AVX (the same operations, so the same bits, at
/// twice the width of the baseline build's SSE), the rest here.
public func fastTanh(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
    fastTanh(x, into: y, count: count, wide: gauntlet_avx_available())
}

/// `fastTanh(_:into:count:)` choosing the path: `wide` lets the AVX version take the groups of
/// eight (tests compare the two).
public func fastTanh(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, wide: Bool) {
    let source = UnsafeRawPointer(x)
    let target = UnsafeMutableRawPointer(y)
    var i = wide ? Int(gauntlet_tanh_avx(x, y, Int32(count))) : 0
    while i + 8 <= count {
        let value = source.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        target.storeBytes(of: fastTanh(value), toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    if i < count {
        var lanes = SIMD8<Float>(repeating: 0)
        for k in 0..<(count - i) { lanes[k] = x[i + k] }
        let result = fastTanh(lanes)
        for k in 0..<(count - i) { y[i + k] = result[k] }
    }
}
