import CKernels
import Linalg

/// Adam (Kingma & Ba 2015) with PyTorch's exact update (`torch.optim.Adam`, non-fused, no
/// amsgrad), including where ε sits:
///
///     m ← m + (1 − β₁)(g − m)         v ← β₂ v + (1 − β₂) g²
///     θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// With `weightDecay` λ > 0, `g ← g + λθ` first (PyTorch's L2 form, not AdamW).
public struct Adam<Scalar: BLASScalar>: Optimizer {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// Steps taken so far (t).
    public private(set) var step = 0
    public private(set) var firstMoment: [Scalar]
    public private(set) var secondMoment: [Scalar]

    public init(
        parameterCount: Int, learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
        epsilon: Double = 1e-8, weightDecay: Double = 0
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoment = [Scalar](repeating: 0, count: parameterCount)
        secondMoment = [Scalar](repeating: 0, count: parameterCount)
    }

    /// Restores the state saved from another Adam of the same size (checkpoints).
    public mutating func restore(firstMoment m: [Scalar], secondMoment v: [Scalar], step t: Int) {
        precondition(m.count == firstMoment.count && v.count == secondMoment.count && t >= 0)
        (firstMoment, secondMoment, step) = (m, v, t)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func update(_ parameters: inout [Scalar], gradient: [Scalar]) {
        precondition(
            parameters.count == firstMoment.count && gradient.count == firstMoment.count,
            "Adam was built for \(firstMoment.count) parameters")
        step += 1
        // Bias corrections in Double, as PyTorch computes them in Python floats.
        let t = Double(step)
        let stepSize = Scalar(learningRate / (1 - Double.pow(beta1, t)))
        let biasCorrection2Root = Scalar((1 - Double.pow(beta2, t)).squareRoot())
        let b1 = Scalar(beta1)
        let b2 = Scalar(beta2)
        let eps = Scalar(epsilon)
        let decay = Scalar(weightDecay)
        // Eight lanes at a time: SIMD square roots vectorise (a scalar sqrt keeps a libm call
        // for negative inputs), and every lane does exactly the scalar operations.
        typealias Lanes = SIMD8<Scalar>
        let lanes = Lanes.scalarCount
        parameters.withUnsafeMutableBufferPointer { theta in
            gradient.withUnsafeBufferPointer { g in
                firstMoment.withUnsafeMutableBufferPointer { m in
                    secondMoment.withUnsafeMutableBufferPointer { v in
                        let count = theta.count
                        var i = 0
                        if Scalar.self == Float.self, gauntlet_avx_available() {
                            // The same operations eight lanes wide (the build's baseline has four).
                            i = Int(
                                gauntlet_adam_step_avx(
                                    UnsafeMutableRawPointer(theta.baseAddress!).assumingMemoryBound(to: Float.self),
                                    UnsafeRawPointer(g.baseAddress!).assumingMemoryBound(to: Float.self),
                                    UnsafeMutableRawPointer(m.baseAddress!).assumingMemoryBound(to: Float.self),
                                    UnsafeMutableRawPointer(v.baseAddress!).assumingMemoryBound(to: Float.self), count,
                                    Float(beta1), Float(beta2), Float(epsilon), Float(weightDecay), stepSize as! Float,
                                    biasCorrection2Root as! Float))
                        }
                        let tp = UnsafeMutableRawPointer(theta.baseAddress)
                        let gp = UnsafeRawPointer(g.baseAddress)
                        let mp = UnsafeMutableRawPointer(m.baseAddress)
                        let vp = UnsafeMutableRawPointer(v.baseAddress)
                        let stride = MemoryLayout<Scalar>.stride
                        while i + lanes <= count {
                            let offset = i * stride
                            var gi = gp!.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                            let thetaI = tp!.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                            if decay != 0 { gi += decay * thetaI }
                            var mi = mp!.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                            mi += (1 - b1) * (gi - mi)  // PyTorch's lerp form
                            let vi = b2 * vp!.loadUnaligned(fromByteOffset: offset, as: Lanes.self) + (1 - b2) * gi * gi
                            let denominator = vi.squareRoot() / biasCorrection2Root + eps
                            mp!.storeBytes(of: mi, toByteOffset: offset, as: Lanes.self)
                            vp!.storeBytes(of: vi, toByteOffset: offset, as: Lanes.self)
                            tp!.storeBytes(of: thetaI - stepSize * mi / denominator, toByteOffset: offset, as: Lanes.self)
                            i += lanes
                        }
                        while i < count {
                            let gi = decay == 0 ? g[i] : g[i] + decay * theta[i]
                            m[i] += (1 - b1) * (gi - m[i])
                            v[i] = b2 * v[i] + (1 - b2) * gi * gi
                            theta[i] -= stepSize * m[i] / (v[i].squareRoot() / biasCorrection2Root + eps)
                            i += 1
                        }
                    }
                }
            }
        }
    }
}
