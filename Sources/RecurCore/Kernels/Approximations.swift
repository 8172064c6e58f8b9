// The definition of every float the library computes beyond + - * /:
// the fused multiply-add, exp, sigmoid, tanh and the 16-lane sums. Scalar
// code, evaluated exactly as written; the fast kernels
// (Sources/RecurKernels: vexp, vsigmoid, vtanh in Activations.swift, Block16
// in Vector.swift) perform the same IEEE float32 operations, in the same
// order, lane by lane. So RECUR_CPU=reference, avx2 and avx512 give the same
// bits (DeterminismTests checks it). The SSE2 level has no FMA: it
// multiplies and adds, and is outside that promise.
//
// Operations used: float32 +, -, *, / (round to nearest even), fused
// multiply-add with one rounding (`fused`, Glibc's fmaf where the CPU has
// no FMA: correctly rounded everywhere), comparisons, selects and integer
// operations on bit patterns. No libm function; no reassociation, no
// contraction (Swift does not contract a * b + c).

enum Approx {
    /// acc + a * b with one rounding (the fast kernels' `fma`).
    @inline(__always)
    static func fused(_ acc: Float, _ a: Float, _ b: Float) -> Float {
        acc.addingProduct(a, b)
    }

    /// e^x: Cephes' single-precision polynomial (about 1-2 ulp), clamped to
    /// about ±88.4. Step by step the fast kernels' `vexp`.
    @inline(__always)
    static func exp(_ xIn: Float) -> Float {
        let low: Float = -87.33654, high: Float = 88.37626
        var x = xIn < low ? low : xIn
        x = x > high ? high : x
        // n = round(x / ln 2) by adding 1.5·2^23: the sum's low mantissa bits
        // then hold n as an integer.
        let magic: Float = 12_582_912
        let shifted = fused(magic, x, 1.442_695_04)
        let n = shifted - magic
        var r = fused(x, n, -0.693_359_375)
        r = fused(r, n, 2.121_944_4e-4)
        var p: Float = 1.987_569_15e-4
        p = fused(1.398_199_95e-3, p, r)
        p = fused(8.333_451_9e-3, p, r)
        p = fused(4.166_579_6e-2, p, r)
        p = fused(1.666_666_55e-1, p, r)
        p = fused(5.000_000_1e-1, p, r)
        let r2 = r * r
        let y = fused(r + 1, p, r2)
        // 2^n in the exponent bits: n sits in the low bits of `shifted`.
        let nBits = Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000
        let scale = (nBits &+ 127) &<< 23
        return y * Float(bitPattern: UInt32(bitPattern: scale))
    }

    /// σ(x) = 1 / (1 + e^-x).
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// tanh(x) = 2·σ(2x) - 1 (x + x, not 2 * x: the same value, the same op
    /// as the vector code).
    @inline(__always)
    static func tanh(_ x: Float) -> Float { 2 * sigmoid(x + x) - 1 }

    /// The sum of `count` floats (a multiple of 16) at p, as the fast
    /// kernels' Block16: 16 partial sums (lane l adds p[l], p[l + 16], ...
    /// in order, from zero), then a tree: lane l + lane l + 8, then + 4,
    /// + 2, + 1.
    static func sum16(_ p: UnsafePointer<Float>, count: Int) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { lanes in
            for l in 0..<16 { lanes[l] = 0 }
            var j = 0
            while j < count {
                for l in 0..<16 { lanes[l] += p[j + l] }
                j += 16
            }
            return tree16(lanes.baseAddress!)
        }
    }

    /// The dot product of `count` floats (a multiple of 16) at a and b, as
    /// Block16: lane l is fused(lane l, a[j + l], b[j + l]) for j = 0, 16,
    /// ... from zero, then the tree of `sum16`.
    static func dot16(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { lanes in
            for l in 0..<16 { lanes[l] = 0 }
            var j = 0
            while j < count {
                for l in 0..<16 { lanes[l] = fused(lanes[l], a[j + l], b[j + l]) }
                j += 16
            }
            return tree16(lanes.baseAddress!)
        }
    }

    private static func tree16(_ lanes: UnsafeMutablePointer<Float>) -> Float {
        var step = 8
        while step >= 1 {
            for l in 0..<step { lanes[l] = lanes[l] + lanes[l + step] }
            step /= 2
        }
        return lanes[0]
    }
}

// The losses and optimizers work partly in Double; these are their
// transcendentals, also from + - * / only (no libm, whose results may
// depend on the CPU and the library version).
extension Approx {
    /// ln x for finite x > 0, to about 1e-16 relative: x = 2^e·m with m in
    /// [√½, √2), ln m = 2·atanh(s), s = (m - 1) / (m + 1), by its series
    /// (12 terms, |s| < 0.172), plus e·ln 2 in two parts (fdlibm's).
    static func log(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == 0 ? -.infinity : (x.isNaN || x < 0 ? .nan : x) }
        var value = x, e = 0
        if value < Double.leastNormalMagnitude { value *= 0x1p54; e = -54 }
        e += Int((value.bitPattern >> 52) & 0x7FF) - 1023
        var m = Double(bitPattern: (value.bitPattern & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
        if m > 1.414_213_562_373_095_1 { m = m / 2; e += 1 }
        let s = (m - 1) / (m + 1), s2 = s * s
        var p = 1.0 / 25
        for k in stride(from: 11, through: 0, by: -1) { p = 1.0 / Double(2 * k + 1) + s2 * p }
        let ln2Hi = 6.931_471_803_691_238_164_90e-01, ln2Lo = 1.908_214_929_270_587_700_02e-10
        return Double(e) * ln2Hi + (Double(e) * ln2Lo + 2 * s * p)
    }

    /// ln(1 + t) for t >= 0, accurate for small t (ln u · t / (u - 1), u = 1 + t).
    static func log1p(_ t: Double) -> Double {
        let u = 1 + t
        return u == 1 ? t : log(u) * (t / (u - 1))
    }

    /// base^n for n >= 0 by repeated squaring.
    static func power(_ base: Double, _ n: Int) -> Double {
        var result = 1.0, square = base, k = n
        while k > 0 {
            if k & 1 == 1 { result *= square }
            square *= square
            k >>= 1
        }
        return result
    }
}
