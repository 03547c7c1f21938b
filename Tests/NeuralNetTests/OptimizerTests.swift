import Linalg
import NeuralNet
import TestSupport
import Testing

struct Trajectory: Decodable {
    var initial: [Double]
    var gradients: [[Double]]
    var parameters: [[Double]]
    var norms_before_clipping: [Double]
}

/// Parameter trajectories against `torch.optim` on the same gradients
/// (`Tests/Fixtures/make_fixtures.py`, float64).
@Suite struct OptimizerTests {
    let fixture: [String: Trajectory] = try! loadFixture("optimizers.json")

    func replay<O: Optimizer>(_ optimizer: O, _ trajectory: Trajectory, clip: Double? = nil) -> (
        params: [[Double]], norms: [Double]
    ) where O.Scalar == Double {
        var optimizer = optimizer
        var theta = trajectory.initial
        var params: [[Double]] = []
        var norms: [Double] = []
        for g in trajectory.gradients {
            var gradient = g
            if let clip { norms.append(clipGradientNorm(&gradient, maximumNorm: clip)) }
            optimizer.update(&theta, gradient: gradient)
            params.append(theta)
        }
        return (params, norms)
    }

    func expectMatches(_ result: [[Double]], _ expected: [[Double]], tolerance: Double = 1e-13) {
        for (a, b) in zip(result, expected) { #expect(maximumRelativeError(a, b) < tolerance) }
        #expect(result.count == expected.count)
    }

    @Test func adamMatchesPyTorch() {
        let t = fixture["adam"]!
        expectMatches(replay(Adam<Double>(parameterCount: 7, learningRate: 0.01), t).params, t.parameters)
    }

    @Test func adamWithWeightDecayAndCustomBetasMatchesPyTorch() {
        let t = fixture["adam_weight_decay"]!
        let adam = Adam<Double>(parameterCount: 7, learningRate: 0.003, beta1: 0.8, beta2: 0.95, epsilon: 1e-5, weightDecay: 0.1)
        expectMatches(replay(adam, t).params, t.parameters)
    }

    @Test func adamInFloatStaysCloseToPyTorch() {
        let t = fixture["adam"]!
        var adam = Adam<Float>(parameterCount: 7, learningRate: 0.01)
        var theta = t.initial.map(Float.init)
        for g in t.gradients { adam.update(&theta, gradient: g.map(Float.init)) }
        #expect(maximumRelativeError(theta.map(Double.init), t.parameters.last!) < 1e-6)
    }

    @Test func sgdWithMomentumMatchesPyTorch() {
        let t = fixture["sgd_momentum"]!
        expectMatches(
            replay(SGD<Double>(parameterCount: 7, learningRate: 0.05, momentum: 0.9, dampening: 0.1), t).params, t.parameters)
        let n = fixture["sgd_nesterov"]!
        expectMatches(
            replay(SGD<Double>(parameterCount: 7, learningRate: 0.05, momentum: 0.9, nesterov: true), n).params, n.parameters)
    }

    @Test func gradientClippingMatchesPyTorch() {
        let t = fixture["sgd_clipped"]!
        let result = replay(SGD<Double>(parameterCount: 7, learningRate: 0.1), t, clip: 1.5)
        expectMatches(result.params, t.parameters)
        #expect(maximumRelativeError(result.norms, t.norms_before_clipping) < 1e-14)
    }

    @Test func rmspropMatchesPyTorch() {
        let t = fixture["rmsprop"]!
        expectMatches(replay(RMSProp<Double>(parameterCount: 7, learningRate: 0.01), t).params, t.parameters)
    }

    /// Centred, with the MinAtar paper's settings; and with α < 0.5, where PyTorch's lerp takes
    /// its other form, plus weight decay.
    @Test func centeredRMSPropMatchesPyTorch() {
        let t = fixture["rmsprop_centered"]!
        let minatar = RMSProp<Double>(parameterCount: 7, learningRate: 0.00025, alpha: 0.95, epsilon: 0.01, centered: true)
        expectMatches(replay(minatar, t).params, t.parameters)
        let slow = fixture["rmsprop_centered_slow_average"]!
        let other = RMSProp<Double>(
            parameterCount: 7, learningRate: 0.003, alpha: 0.3, epsilon: 1e-6, centered: true, weightDecay: 0.05)
        expectMatches(replay(other, slow).params, slow.parameters)
        let withMomentum = fixture["rmsprop_centered_momentum"]!
        let later = RMSProp<Double>(
            parameterCount: 7, learningRate: 0.00025, alpha: 0.95, epsilon: 0.01, centered: true, momentum: 0.95)
        expectMatches(replay(later, withMomentum).params, withMomentum.parameters)
    }

    @Test func centeredRMSPropInFloatStaysCloseToPyTorch() {
        let t = fixture["rmsprop_centered"]!
        var rmsprop = RMSProp<Float>(parameterCount: 7, learningRate: 0.00025, alpha: 0.95, epsilon: 0.01, centered: true)
        var theta = t.initial.map(Float.init)
        for g in t.gradients { rmsprop.update(&theta, gradient: g.map(Float.init)) }
        #expect(maximumRelativeError(theta.map(Double.init), t.parameters.last!) < 1e-6)
    }

    /// The eight-lane loop over 1,003 Float parameters is bit-identical to 1,003 one-parameter
    /// optimisers (which take the scalar loop), centred or not, with and without momentum and weight decay.
    @Test func floatRMSPropLanesAreBitIdenticalToTheScalarLoop() {
        let random = RandomStream(seed: 11)
        for (centered, decay, alpha, momentum) in [(true, 0.0, 0.95, 0.0), (false, 0.01, 0.99, 0.9), (true, 0.01, 0.3, 0.95)] {
            let count = 1003
            func make(_ n: Int) -> RMSProp<Float> {
                RMSProp(
                    parameterCount: n, learningRate: 2.5e-4, alpha: alpha, epsilon: 0.01, centered: centered,
                    momentum: momentum, weightDecay: decay)
            }
            var whole = make(count)
            var singles = (0..<count).map { _ in make(1) }
            var theta = (0..<count).map { _ in Float(random.normal()) }
            var expected = theta
            for step in 1...5 {
                let gradient = (0..<count).map { _ in Float(random.normal() * 0.1) }
                whole.update(&theta, gradient: gradient)
                for i in 0..<count {
                    var one = [expected[i]]
                    singles[i].update(&one, gradient: [gradient[i]])
                    expected[i] = one[0]
                }
                #expect(theta.map(\.bitPattern) == expected.map(\.bitPattern), "step \(step), centred \(centered)")
            }
        }
    }

    @Test func adamMinimisesAQuadratic() {
        var adam = Adam<Double>(parameterCount: 3, learningRate: 0.05)
        var theta = [3.0, -2.0, 1.0]
        for _ in 0..<2000 { adam.update(&theta, gradient: theta.map { 2 * $0 }) }
        #expect(theta.allSatisfy { abs($0) < 1e-3 })
    }

    /// Float Adam over 1,003 parameters (vector lanes plus a scalar tail; on AVX machines the
    /// eight-lane kernel) is bit-identical to the update written out one parameter at a time,
    /// with and without weight decay, over several steps.
    @Test func floatAdamIsBitIdenticalToTheScalarUpdate() {
        let random = RandomStream(seed: 9)
        for decay in [0.0, 0.01] {
            let count = 1003
            var adam = Adam<Float>(parameterCount: count, learningRate: 3e-4, weightDecay: decay)
            var theta = (0..<count).map { _ in Float(random.normal()) }
            var expected = theta
            var (m, v) = ([Float](repeating: 0, count: count), [Float](repeating: 0, count: count))
            for t in 1...5 {
                let gradient = (0..<count).map { _ in Float(random.normal() * 0.1) }
                adam.update(&theta, gradient: gradient)
                let stepSize = Float(3e-4 / (1 - Double.pow(0.9, Double(t))))
                let root = Float((1 - Double.pow(0.999, Double(t))).squareRoot())
                let (b1, b2, eps, wd): (Float, Float, Float, Float) = (0.9, 0.999, 1e-8, Float(decay))
                for i in 0..<count {
                    let g = wd == 0 ? gradient[i] : gradient[i] + wd * expected[i]
                    m[i] = m[i] + (1 - b1) * (g - m[i])
                    v[i] = b2 * v[i] + (1 - b2) * g * g
                    expected[i] = expected[i] - stepSize * m[i] / (v[i].squareRoot() / root + eps)
                }
                #expect(theta.map(\.bitPattern) == expected.map(\.bitPattern), "step \(t), weight decay \(decay)")
            }
        }
    }

    /// An optimiser's step through `&network.parameters` updates the network's own storage: the
    /// parameters are not copied first (a `didSet` observer once made every step copy them all),
    /// and what was derived from the old values is dropped.
    @Test func stepsThroughTheNetworkUpdateItsParametersInPlace() throws {
        var network = try Sequential<Double>.mlp(sizes: [4, 16, 2], activation: .relu, random: RandomStream(seed: 3))
        let staleTransposed = network.transposedParameters
        var adam = Adam<Double>(parameterCount: network.parameterCount, learningRate: 0.1)
        let storage = network.parameters.withUnsafeBufferPointer { $0.baseAddress }
        adam.update(&network.parameters, gradient: [Double](repeating: 1, count: network.parameterCount))
        #expect(network.parameters.withUnsafeBufferPointer { $0.baseAddress } == storage)
        #expect(network.transposedParameters != staleTransposed)
    }
}
