// Matrix products over weights packed in panels.
//
// A weight block maps `depth` inputs to `width` outputs (width a multiple of
// 16). It is stored as panels of 32 outputs: panel p holds, for k = 0 ..<
// depth, the weights of input k for outputs 32p ..< 32p + 32, one contiguous
// run of 32 floats per k (a last panel of 16 when width is an odd multiple
// of 16). A product then streams through memory in order, and computes 32
// outputs lane-parallel, each output keeping its own sum, in input order.

#if RECUR_AVX512
/// Streams that share each weight load in the batched product.
private let streamTile = 4
#elseif RECUR_AVX2
private let streamTile = 3
#else
private let streamTile = 2
#endif

@inline(__always)
private func panelBase<E>(_ w: UnsafePointer<E>, _ panel: Int, _ depth: Int) -> UnsafePointer<E> {
    w + panel * panelWidth * depth
}

public enum FastKernels {
    /// out[i][r] = sum over k < depth of x[i][k] * W[k][r], for i < count and
    /// r < width. Sum in order of k, one FMA per k, from zero: the same for
    /// every i however the work is tiled.
    public static func project(count: Int, depth: Int, width: Int, weights w: UnsafePointer<Float>,
                               input x: UnsafePointer<Float>, inputStride: Int,
                               output out: UnsafeMutablePointer<Float>, outputStride: Int) {
        projectPanels(count: count, depth: depth, width: width, weights: w, input: x, inputStride: inputStride,
                      output: out, outputStride: outputStride)
    }

    /// `project` with fp16 weights (their bit patterns, same layout):
    /// widened to float32 on load, float32 arithmetic.
    public static func projectHalf(count: Int, depth: Int, width: Int, weights w: UnsafePointer<UInt16>,
                                   input x: UnsafePointer<Float>, inputStride: Int,
                                   output out: UnsafeMutablePointer<Float>, outputStride: Int) {
        projectPanels(count: count, depth: depth, width: width, weights: w, input: x, inputStride: inputStride,
                      output: out, outputStride: outputStride)
    }

    @inline(__always)
    static func projectPanels<E: WeightElement>(count: Int, depth: Int, width: Int, weights w: UnsafePointer<E>,
                                                input x: UnsafePointer<Float>, inputStride: Int,
                                                output out: UnsafeMutablePointer<Float>, outputStride: Int) {
        let panels = width / panelWidth, half = width % panelWidth != 0
        if count < streamTile {
            for i in 0..<count {
                projectOne(depth: depth, weights: w, panels: panels, half: half,
                           input: x + i * inputStride, output: out + i * outputStride)
            }
            return
        }
        // Panel by panel (a panel's weights stay in L1 cache), all streams.
        for p in 0...panels {
            if p == panels && !half { break }
            let base = panelBase(w, p, depth)
            var i = 0
            while i + streamTile <= count {
                let x0 = x + i * inputStride, x1 = x0 + inputStride
                let o0 = out + i * outputStride + p * panelWidth, o1 = o0 + outputStride
                #if RECUR_AVX512 || RECUR_AVX2
                let x2 = x1 + inputStride, o2 = o1 + outputStride
                #endif
                #if RECUR_AVX512
                let x3 = x2 + inputStride, o3 = o2 + outputStride
                #endif
                if p < panels {
                    var a0 = Panel(), a1 = Panel()
                    #if RECUR_AVX512 || RECUR_AVX2
                    var a2 = Panel()
                    #endif
                    #if RECUR_AVX512
                    var a3 = Panel()
                    #endif
                    for k in 0..<depth {
                        let row = base + k * panelWidth
                        a0.add(splat(x0[k]), times: row)
                        a1.add(splat(x1[k]), times: row)
                        #if RECUR_AVX512 || RECUR_AVX2
                        a2.add(splat(x2[k]), times: row)
                        #endif
                        #if RECUR_AVX512
                        a3.add(splat(x3[k]), times: row)
                        #endif
                    }
                    a0.store(o0); a1.store(o1)
                    #if RECUR_AVX512 || RECUR_AVX2
                    a2.store(o2)
                    #endif
                    #if RECUR_AVX512
                    a3.store(o3)
                    #endif
                } else {
                    for s in 0..<streamTile {
                        let xs = x0 + s * inputStride
                        var a = HalfPanel()
                        for k in 0..<depth { a.add(splat(xs[k]), times: base + k * 16) }
                        a.store(o0 + s * outputStride)
                    }
                }
                i += streamTile
            }
            while i < count {
                let xi = x + i * inputStride, o = out + i * outputStride + p * panelWidth
                if p < panels {
                    var a = Panel()
                    for k in 0..<depth { a.add(splat(xi[k]), times: base + k * panelWidth) }
                    a.store(o)
                } else {
                    var a = HalfPanel()
                    for k in 0..<depth { a.add(splat(xi[k]), times: base + k * 16) }
                    a.store(o)
                }
                i += 1
            }
        }
    }

    /// One stream: two panels at once, so that more independent sums hide
    /// the FMA latency.
    @inline(__always)
    static func projectOne<E: WeightElement>(depth: Int, weights w: UnsafePointer<E>, panels: Int, half: Bool,
                                             input xi: UnsafePointer<Float>, output o: UnsafeMutablePointer<Float>) {
        var p = 0
        while p + 2 <= panels {
            let base0 = panelBase(w, p, depth), base1 = panelBase(w, p + 1, depth)
            var a0 = Panel(), a1 = Panel()
            for k in 0..<depth {
                let b = splat(xi[k])
                a0.add(b, times: base0 + k * panelWidth)
                a1.add(b, times: base1 + k * panelWidth)
            }
            a0.store(o + p * panelWidth); a1.store(o + (p + 1) * panelWidth)
            p += 2
        }
        if p < panels {
            let base = panelBase(w, p, depth)
            var a = Panel()
            for k in 0..<depth { a.add(splat(xi[k]), times: base + k * panelWidth) }
            a.store(o + p * panelWidth)
        }
        if half {
            let base = panelBase(w, panels, depth)
            var a = HalfPanel()
            for k in 0..<depth { a.add(splat(xi[k]), times: base + k * 16) }
            a.store(o + panels * panelWidth)
        }
    }

    /// out[i][k] (+)= sum over r < width of W[k][r] * d[i][r], for i < count
    /// and k < depth: the backward of `project` (dL/dx = W dL/dy). Each sum is
    /// one vector accumulator over r in order, then its lanes in a fixed
    /// tree. With `accumulate`, adds to out instead of overwriting it.
    public static func projectBackward(count: Int, depth: Int, width: Int, weights w: UnsafePointer<Float>,
                                       gradient d: UnsafePointer<Float>, gradientStride: Int,
                                       output out: UnsafeMutablePointer<Float>, outputStride: Int, accumulate: Bool) {
        let panels = (width + panelWidth - 1) / panelWidth
        // Four weight rows at a time (they stay in L1 cache) against every
        // stream, two streams at a time (eight sums in flight).
        var k = 0
        while k < depth {
            let rows = min(4, depth - k)
            var i = 0
            while i < count {
                let pair = i + 1 < count
                let d0 = d + i * gradientStride, d1 = pair ? d0 + gradientStride : d0
                var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
                var b0 = Vec(), b1 = Vec(), b2 = Vec(), b3 = Vec()
                for p in 0..<panels {
                    let pw = min(panelWidth, width - p * panelWidth)
                    let row = panelBase(w, p, depth) + k * pw, offset = p * panelWidth
                    var v = 0
                    while v < pw {
                        let e0 = load(d0 + offset + v), e1 = load(d1 + offset + v)
                        let w0 = load(row + v)
                        a0 = fma(a0, w0, e0); b0 = fma(b0, w0, e1)
                        if rows > 1 { let w1 = load(row + pw + v); a1 = fma(a1, w1, e0); b1 = fma(b1, w1, e1) }
                        if rows > 2 { let w2 = load(row + 2 * pw + v); a2 = fma(a2, w2, e0); b2 = fma(b2, w2, e1) }
                        if rows > 3 { let w3 = load(row + 3 * pw + v); a3 = fma(a3, w3, e0); b3 = fma(b3, w3, e1) }
                        v += lanes
                    }
                }
                func write(_ o: UnsafeMutablePointer<Float>, _ s0: Vec, _ s1: Vec, _ s2: Vec, _ s3: Vec) {
                    o[k] = accumulate ? o[k] + horizontalSum(s0) : horizontalSum(s0)
                    if rows > 1 { o[k + 1] = accumulate ? o[k + 1] + horizontalSum(s1) : horizontalSum(s1) }
                    if rows > 2 { o[k + 2] = accumulate ? o[k + 2] + horizontalSum(s2) : horizontalSum(s2) }
                    if rows > 3 { o[k + 3] = accumulate ? o[k + 3] + horizontalSum(s3) : horizontalSum(s3) }
                }
                write(out + i * outputStride, a0, a1, a2, a3)
                if pair { write(out + (i + 1) * outputStride, b0, b1, b2, b3) }
                i += 2
            }
            k += rows
        }
    }

    /// W[k][r] += sum over i < count of x[i][k] * d[i][r], for k < depth and
    /// r < width (W in the panel layout): the weight gradient of `project`,
    /// summed over positions i in order, then added.
    public static func accumulateWeightGradient(count: Int, depth: Int, width: Int,
                                                input x: UnsafePointer<Float>, inputStride: Int,
                                                gradient d: UnsafePointer<Float>, gradientStride: Int,
                                                into g: UnsafeMutablePointer<Float>) {
        let panels = width / panelWidth, half = width % panelWidth != 0
        for p in 0..<panels {
            let base = g + p * panelWidth * depth, dp = d + p * panelWidth
            var k = 0
            while k + 2 <= depth {
                var a0 = Panel(), a1 = Panel()
                for i in 0..<count {
                    let row = dp + i * gradientStride, xi = x + i * inputStride + k
                    a0.add(splat(xi[0]), times: row)
                    a1.add(splat(xi[1]), times: row)
                }
                a0.store(base + k * panelWidth, accumulate: true)
                a1.store(base + (k + 1) * panelWidth, accumulate: true)
                k += 2
            }
            if k < depth {
                var a = Panel()
                for i in 0..<count { a.add(splat(x[i * inputStride + k]), times: dp + i * gradientStride) }
                a.store(base + k * panelWidth, accumulate: true)
            }
        }
        if half {
            let base = g + panels * panelWidth * depth, dp = d + panels * panelWidth
            for k in 0..<depth {
                var a = HalfPanel()
                for i in 0..<count { a.add(splat(x[i * inputStride + k]), times: dp + i * gradientStride) }
                a.store(base + k * 16, accumulate: true)
            }
        }
    }

    /// g[r] += sum over i < count of d[i][r]: a bias gradient.
    public static func accumulateRows(count: Int, width: Int, gradient d: UnsafePointer<Float>, gradientStride: Int,
                                      into g: UnsafeMutablePointer<Float>) {
        var r = 0
        while r < width {
            var a = Vec()
            for i in 0..<count { a += load(d + i * gradientStride + r) }
            store(load(g + r) + a, g + r)
            r += lanes
        }
    }
}
