/// Helpers of the classic-control dynamics, as Gymnasium's `acrobot.py` defines them.

/// Wraps `x` into `[lower, upper]` by adding or subtracting the period `upper − lower`.
/// Far outside the range (a state set by hand) it first takes the remainder: Gymnasium's loop
/// would take ~|x|/period steps there, and never end once `x − period == x`.
@inline(__always)
func wrap(_ x: Double, _ lower: Double, _ upper: Double) -> Double {
    let period = upper - lower
    var x = x
    if abs(x) > 1e6 { x = lower + (x - lower).truncatingRemainder(dividingBy: period) }
    while x > upper { x -= period }
    while x < lower { x += period }
    return x
}

/// Clamps `x` to `[lower, upper]`.
@inline(__always)
func bound<T: Comparable>(_ x: T, _ lower: T, _ upper: T) -> T { min(max(x, lower), upper) }

/// One classical fourth-order Runge–Kutta step of `dy/dt = derivative(y)` over `dt`, with
/// Gymnasium's operation order (`y + dt/6 · (k1 + 2 k2 + 2 k3 + k4)`) so results agree to the
/// last bits.
@inline(__always)
func rk4<let N: Int>(_ y: InlineArray<N, Double>, dt: Double, _ derivative: (InlineArray<N, Double>) -> InlineArray<N, Double>)
    -> InlineArray<N, Double>
{
    let dt2 = dt / 2.0
    func offset(_ k: InlineArray<N, Double>, _ h: Double) -> InlineArray<N, Double> {
        var result = y
        for i in 0..<N { result[i] = y[i] + h * k[i] }
        return result
    }
    let k1 = derivative(y)
    let k2 = derivative(offset(k1, dt2))
    let k3 = derivative(offset(k2, dt2))
    let k4 = derivative(offset(k3, dt))
    var next = y
    for i in 0..<N { next[i] = y[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) }
    return next
}

/// NumPy's floating remainder (`np.remainder`, Python's `%`): the result has the sign of the
/// divisor.
@inline(__always)
func floorRemainder(_ a: Double, _ b: Double) -> Double {
    var r = a.truncatingRemainder(dividingBy: b)
    if r != 0 && (r < 0) != (b < 0) { r += b }
    return r
}
