// Vectorised exp, sigmoid and tanh: Cephes' single-precision polynomials
// (about 1-2 ulp), branch-free. Their definition is the scalar code of
// RecurCore's Approx (Sources/RecurCore/Kernels/Approximations.swift): these
// perform the same float32 operations in the same order, lane by lane, so
// with FMA (the AVX2 and AVX-512 levels) they give Approx's bits exactly.
// Change one, change the other (DeterminismTests compares them bit for bit).

// @_transparent, not @inline(__always): the optimizer ignored the latter for
// the 16-lane build and called them out of line (a call with spills per
// gate vector made the AVX-512 cells slower than AVX2's).

/// e^x for x in float range (clamped to about ±88.4).
@_transparent
func vexp(_ xIn: Vec) -> Vec {
    let low = splat(-87.33654), high = splat(88.37626)
    var x = xIn.replacing(with: low, where: xIn .< low)
    x = x.replacing(with: high, where: x .> high)
    // n = round(x / ln 2) by adding 1.5·2^23: the sum's low mantissa bits
    // then hold n as an integer (no SSE4.1 round or float->int convert needed).
    let magic = splat(12_582_912)
    let shifted = fma(magic, x, splat(1.442_695_04))
    let n = shifted - magic
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
    // 2^n in the exponent bits: n sits in the low bits of `shifted`.
    let nBits = unsafeBitCast(shifted, to: IntVec.self) &- IntVec(repeating: 0x4B40_0000)
    let scale = (nBits &+ IntVec(repeating: 127)) &<< IntVec(repeating: 23)
    return y * unsafeBitCast(scale, to: Vec.self)
}

@_transparent
func vsigmoid(_ x: Vec) -> Vec {
    splat(1) / (splat(1) + vexp(-x))
}

/// tanh(x) = 2·σ(2x) - 1: one exp and one division. Near zero its relative
/// error grows, but its absolute error stays below 1e-7.
@_transparent
func vtanh(_ x: Vec) -> Vec {
    splat(2) * vsigmoid(x + x) - splat(1)
}
