// Vectorised exp, sigmoid and tanh: Cephes' single-precision polynomials
// (about 1-2 ulp), branch-free. A license to be fast, not a guarantee of the
// last bit: results agree with libm well inside the reference tolerances,
// and are the same for a given input at a given dispatch level.

/// e^x for x in float range (clamped to about ±88.4).
@inline(__always)
func vexp(_ xIn: Vec) -> Vec {
    let x = xIn.clamped(lowerBound: splat(-87.33654), upperBound: splat(88.37626))
    // n = round(x / ln 2) by the 1.5·2^23 trick (no SSE4.1 round needed).
    let magic = splat(12_582_912)
    let n = fma(magic, x, splat(1.442_695_04)) - magic
    var r = fma(x, n, splat(-0.693_359_375))
    r = fma(r, n, splat(2.121_944_4e-4))
    var p = splat(1.987_569_15e-4)
    p = fma(splat(1.398_199_95e-3), p, r)
    p = fma(splat(8.333_451_9e-3), p, r)
    p = fma(splat(4.166_579_6e-2), p, r)
    p = fma(splat(1.666_666_55e-1), p, r)
    p = fma(splat(5.000_000_1e-1), p, r)
    let r2 = r * r
    let y = fma(r + splat(1), p, r2)
    // 2^n, built in the exponent bits.
    let bits = (IntVec(n, rounding: .towardZero) &+ IntVec(repeating: 127)) &<< IntVec(repeating: 23)
    return y * unsafeBitCast(bits, to: Vec.self)
}

@inline(__always)
func vsigmoid(_ x: Vec) -> Vec {
    splat(1) / (splat(1) + vexp(-x))
}

/// tanh: an odd polynomial near zero (no cancellation), 1 - 2/(e^2x + 1) beyond.
@inline(__always)
func vtanh(_ x: Vec) -> Vec {
    let negative = x .< Vec()
    let a = x.replacing(with: Vec() - x, where: negative)
    let a2 = a * a
    var p = splat(-5.704_988_7e-3)
    p = fma(splat(2.063_901_2e-2), p, a2)
    p = fma(splat(-5.372_971_4e-2), p, a2)
    p = fma(splat(1.333_144_2e-1), p, a2)
    p = fma(splat(-3.333_327_3e-1), p, a2)
    let small = fma(a, a * p, a2)
    let large = splat(1) - splat(2) / (vexp(a + a) + splat(1))
    let magnitude = large.replacing(with: small, where: a .< Vec(repeating: 0.625))
    return magnitude.replacing(with: Vec() - magnitude, where: negative)
}
