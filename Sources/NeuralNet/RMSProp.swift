import CKernels
import Linalg

/// RMSProp (Tieleman & Hinton 2012) with PyTorch's exact update (`torch.optim.RMSprop`),
/// optionally centred (Graves 2013) — the optimiser of DQN on MinAtar (Young & Tian 2019: α 0.95,
/// ε 0.01, centred; the package's later example adds momentum 0.95):
///
///     s ← α s + (1 − α) g²            ḡ ← ḡ + (1 − α)(g − ḡ)    (centred only)
///     d ← g / (√(s − ḡ²) + ε)          (not centred: √s)
///     θ ← θ − lr · d                   (with momentum μ > 0: b ← μ b + d, θ ← θ − lr · b)
///
/// ε sits outside the square root, as in PyTorch (TensorFlow puts it inside). With
/// `weightDecay` λ > 0, `g ← g + λθ` first.
public struct RMSProp<Scalar: BLASScalar>: Optimizer {
    public var learningRate: Double
    /// The smoothing constant of the running averages (PyTorch's `alpha`).
    public var alpha: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// The momentum μ of the update (0: none, no buffer kept).
    public let momentum: Double
    /// Whether the update divides by the running variance (s − ḡ²) instead of the running second moment.
    public let centered: Bool
    /// The running average of squared gradients (s).
    public private(set) var squareAverage: [Scalar]
    /// The running average of gradients (ḡ); empty unless centred.
    public private(set) var gradientAverage: [Scalar]
    /// The momentum buffer (b); empty without momentum.
    public private(set) var momentumBuffer: [Scalar]

    public init(
        parameterCount: Int, learningRate: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8,
        centered: Bool = false, momentum: Double = 0, weightDecay: Double = 0
    ) {
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.centered = centered
        self.weightDecay = weightDecay
        self.momentum = momentum
        squareAverage = [Scalar](repeating: 0, count: parameterCount)
        gradientAverage = [Scalar](repeating: 0, count: centered ? parameterCount : 0)
        momentumBuffer = [Scalar](repeating: 0, count: momentum > 0 ? parameterCount : 0)
    }

    /// Restores the state saved from another RMSProp of the same size and kind (checkpoints).
    public mutating func restore(squareAverage s: [Scalar], gradientAverage m: [Scalar], momentumBuffer b: [Scalar]) {
        precondition(s.count == squareAverage.count && m.count == gradientAverage.count && b.count == momentumBuffer.count)
        (squareAverage, gradientAverage, momentumBuffer) = (s, m, b)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func update(_ parameters: inout [Scalar], gradient: [Scalar]) {
        precondition(
            parameters.count == squareAverage.count && gradient.count == squareAverage.count,
            "RMSProp was built for \(squareAverage.count) parameters")
        // The constants as PyTorch hands them to its kernels: computed in Double (Python floats),
        // then rounded to the parameters' precision.
        let a = Scalar(alpha)
        let oneMinusAlpha = Scalar(1 - alpha)
        let eps = Scalar(epsilon)
        let decay = Scalar(weightDecay)
        let negativeRate = Scalar(-learningRate)
        let mu = Scalar(momentum)
        let withMomentum = momentum > 0
        // torch.lerp's two forms, chosen by the weight, so ḡ rounds as PyTorch rounds it.
        let lerpFromStart = abs(oneMinusAlpha) < 0.5
        let lerpComplement = 1 - oneMinusAlpha
        let centered = centered
        // Eight lanes at a time (with AVX, in CKernels); every lane does exactly the scalar operations.
        typealias Lanes = SIMD8<Scalar>
        let lanes = Lanes.scalarCount
        parameters.withUnsafeMutableBufferPointer { theta in
            gradient.withUnsafeBufferPointer { g in
                squareAverage.withUnsafeMutableBufferPointer { s in
                    gradientAverage.withUnsafeMutableBufferPointer { m in
                        momentumBuffer.withUnsafeMutableBufferPointer { b in
                            let count = theta.count
                            var i = 0
                            let stride = MemoryLayout<Scalar>.stride
                            let (tp, gp) = (UnsafeMutableRawPointer(theta.baseAddress), UnsafeRawPointer(g.baseAddress))
                            let (sp, mp) = (UnsafeMutableRawPointer(s.baseAddress), UnsafeMutableRawPointer(m.baseAddress))
                            let bp = UnsafeMutableRawPointer(b.baseAddress)
                            if Scalar.self == Float.self, gauntlet_avx_available() {
                                // The same operations eight lanes wide (the build's baseline has four).
                                func floats(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Float>? {
                                    p?.assumingMemoryBound(to: Float.self)
                                }
                                i = Int(
                                    gauntlet_rmsprop_step_avx(
                                        floats(tp), gp?.assumingMemoryBound(to: Float.self), floats(sp),
                                        centered ? floats(mp) : nil, withMomentum ? floats(bp) : nil, count, a as! Float,
                                        oneMinusAlpha as! Float, lerpComplement as! Float, lerpFromStart ? 1 : 0, eps as! Float,
                                        decay as! Float, mu as! Float, negativeRate as! Float))
                            }
                            while i + lanes <= count {
                                let offset = i * stride
                                var gi = gp!.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                                let thetaI = tp!.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                                if decay != 0 { gi += decay * thetaI }
                                let si = sp!.loadUnaligned(fromByteOffset: offset, as: Lanes.self) * a + oneMinusAlpha * gi * gi
                                sp!.storeBytes(of: si, toByteOffset: offset, as: Lanes.self)
                                var variance = si
                                if centered {
                                    var mi = mp!.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                                    mi =
                                        lerpFromStart
                                        ? mi + oneMinusAlpha * (gi - mi) : gi - (gi - mi) * lerpComplement
                                    mp!.storeBytes(of: mi, toByteOffset: offset, as: Lanes.self)
                                    variance = si + (-1) * mi * mi
                                }
                                let denominator = variance.squareRoot() + eps
                                if withMomentum {
                                    let bi = bp!.loadUnaligned(fromByteOffset: offset, as: Lanes.self) * mu + gi / denominator
                                    bp!.storeBytes(of: bi, toByteOffset: offset, as: Lanes.self)
                                    tp!.storeBytes(of: thetaI + negativeRate * bi, toByteOffset: offset, as: Lanes.self)
                                } else {
                                    tp!.storeBytes(
                                        of: thetaI + negativeRate * gi / denominator, toByteOffset: offset, as: Lanes.self)
                                }
                                i += lanes
                            }
                            while i < count {
                                let gi = decay == 0 ? g[i] : g[i] + decay * theta[i]
                                s[i] = s[i] * a + oneMinusAlpha * gi * gi
                                var variance = s[i]
                                if centered {
                                    m[i] = lerpFromStart ? m[i] + oneMinusAlpha * (gi - m[i]) : gi - (gi - m[i]) * lerpComplement
                                    variance = s[i] + (-1) * m[i] * m[i]
                                }
                                let denominator = variance.squareRoot() + eps
                                if withMomentum {
                                    b[i] = b[i] * mu + gi / denominator
                                    theta[i] = theta[i] + negativeRate * b[i]
                                } else {
                                    theta[i] = theta[i] + negativeRate * gi / denominator
                                }
                                i += 1
                            }
                        }
                    }
                }
            }
        }
    }
}
