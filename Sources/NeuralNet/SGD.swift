import Linalg

/// Stochastic gradient descent with momentum, as `torch.optim.SGD`:
///
///     b ← μ b + (1 − dampening) g   (b ← g at the first step)
///     θ ← θ − lr · (nesterov ? g + μ b : b)
public struct SGD<Scalar: BLASScalar>: Optimizer {
    public var learningRate: Double
    public var momentum: Double
    public var dampening: Double
    public var nesterov: Bool
    public private(set) var velocity: [Scalar]
    private var started = false

    public init(
        parameterCount: Int, learningRate: Double, momentum: Double = 0, dampening: Double = 0,
        nesterov: Bool = false
    ) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        velocity = [Scalar](repeating: 0, count: parameterCount)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func update(_ parameters: inout [Scalar], gradient: [Scalar]) {
        precondition(
            parameters.count == velocity.count && gradient.count == velocity.count,
            "SGD was built for \(velocity.count) parameters")
        let lr = Scalar(learningRate)
        let mu = Scalar(momentum)
        let damp = Scalar(dampening)
        for i in parameters.indices {
            var direction = gradient[i]
            if momentum != 0 {
                velocity[i] = started ? mu * velocity[i] + (1 - damp) * gradient[i] : gradient[i]
                direction = nesterov ? gradient[i] + mu * velocity[i] : velocity[i]
            }
            parameters[i] -= lr * direction
        }
        started = true
    }
}
