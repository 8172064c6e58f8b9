// Matrix products over weights packed in panels.
//
// A weight block maps `depth` inputs to `width` outputs (width a multiple of
// 16). It is stored as panels of 32 outputs: panel p holds, for k = 0 ..<
// depth, the weights of input k for outputs 32p ..< 32p + 32, one contiguous
// run of 32 floats per k (a last panel of 16 when width is an odd multiple
// of 16). A product then streams through memory in order, and computes 32
// outputs lane-parallel, each output keeping its own sum, in input order.
// (32 and 16 are `panelWidth` and `halfPanelWidth` of RecurKernelInterface.)
import RecurKernelInterface

#if RECUR_AVX512
/// Streams that share each weight load in the batched product.
private let streamTile = 4
#elseif RECUR_AVX2
private let streamTile = 3
#else
private let streamTile = 2
#endif

@inline(__always)
func panelBase<E>(_ w: UnsafePointer<E>, _ panel: Int, _ depth: Int) -> UnsafePointer<E> {
    w + panel * panelWidth * depth
}

/// The kernels of this level (`Kernels` documents each).
public enum FastKernels: Kernels {
    /// The same for every i however the work is tiled.
    public static func project(count: Int, depth: Int, width: Int, weights w: UnsafePointer<Float>,
                               input: ConstRows, output: MutableRows) {
        projectPanels(count: count, depth: depth, width: width, weights: w, input: input.base, inputStride: input.stride,
                      output: output.base, outputStride: output.stride)
    }

    /// fp16 weights widened on load, float32 arithmetic.
    public static func projectHalf(count: Int, depth: Int, width: Int, weights w: UnsafePointer<UInt16>,
                                   input: ConstRows, output: MutableRows) {
        projectPanels(count: count, depth: depth, width: width, weights: w, input: input.base, inputStride: input.stride,
                      output: output.base, outputStride: output.stride)
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
        #if RECUR_AVX512
        // Tiles of six streams, then of four: as many sixes as leave the
        // fewest streams alone (a stream alone has only two sums), and of
        // those the most sixes.
        var sixes = count / 6
        for tried in stride(from: count / 6, through: 0, by: -1)
        where (count - 6 * tried) % streamTile < (count - 6 * sixes) % streamTile {
            sixes = tried
        }
        #endif
        // Panel by panel (a panel's weights stay in L1 cache), all streams.
        for p in 0...panels {
            if p == panels && !half { break }
            let base = panelBase(w, p, depth)
            var i = 0
            #if RECUR_AVX512
            // Six streams first: twelve independent sums, so that two FMAs a
            // cycle never wait on one another's latency (four streams' eight
            // are just enough, with no slack).
            while p < panels && i < 6 * sixes {
                let x0 = x + i * inputStride, o0 = out + i * outputStride + p * panelWidth
                var a0 = Panel(), a1 = Panel(), a2 = Panel(), a3 = Panel(), a4 = Panel(), a5 = Panel()
                for k in 0..<depth {
                    let row = base + k * panelWidth
                    a0.add(splat(x0[k]), times: row)
                    a1.add(splat(x0[inputStride + k]), times: row)
                    a2.add(splat(x0[2 * inputStride + k]), times: row)
                    a3.add(splat(x0[3 * inputStride + k]), times: row)
                    a4.add(splat(x0[4 * inputStride + k]), times: row)
                    a5.add(splat(x0[5 * inputStride + k]), times: row)
                }
                a0.store(o0); a1.store(o0 + outputStride); a2.store(o0 + 2 * outputStride)
                a3.store(o0 + 3 * outputStride); a4.store(o0 + 4 * outputStride); a5.store(o0 + 5 * outputStride)
                i += 6
            }
            #endif
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
                        for k in 0..<depth { a.add(splat(xs[k]), times: base + k * halfPanelWidth) }
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
                    for k in 0..<depth { a.add(splat(xi[k]), times: base + k * halfPanelWidth) }
                    a.store(o)
                }
                i += 1
            }
        }
    }

    /// One stream: several panels at once, so that more independent sums
    /// hide the FMA latency: four at AVX-512 (eight sums; S2's W_ih x 6%
    /// faster, the smaller products even), else two; three when three are
    /// left (a GRU's gates of 32), rather than two and then one alone.
    @inline(__always)
    static func projectOne<E: WeightElement>(depth: Int, weights w: UnsafePointer<E>, panels: Int, half: Bool,
                                             input xi: UnsafePointer<Float>, output o: UnsafeMutablePointer<Float>) {
        @inline(__always) func pass(_ n: Int, from p: Int) {
            sumPanels(n, depth: depth, input: xi,
                      weights: (panelBase(w, p, depth), panelBase(w, p + min(1, n - 1), depth),
                                panelBase(w, p + min(2, n - 1), depth), panelBase(w, p + min(3, n - 1), depth)),
                      outputs: (o + p * panelWidth, o + (p + 1) * panelWidth, o + (p + 2) * panelWidth, o + (p + 3) * panelWidth))
        }
        var p = 0
        let triple = panels % 2 == 1 && panels >= 3
        #if RECUR_AVX512
        while p + 4 <= panels - (triple ? 3 : 0) { pass(4, from: p); p += 4 }
        #endif
        while p + 2 <= panels - (triple ? 3 : 0) { pass(2, from: p); p += 2 }
        if triple { pass(3, from: p); p += 3 }
        if p < panels { pass(1, from: p) }
        if half {
            let base = panelBase(w, panels, depth)
            var a = HalfPanel()
            for k in 0..<depth { a.add(splat(xi[k]), times: base + k * halfPanelWidth) }
            a.store(o + panels * panelWidth)
        }
    }

    /// `n` (1 to 4) whole panels' sums over one input row in one pass:
    /// output r of panel i into outputs.i, one FMA chain over k each, as
    /// `project`. Only the first `n` of each tuple are read.
    @inline(__always)
    static func sumPanels<E: WeightElement>(_ n: Int, depth: Int, input xi: UnsafePointer<Float>,
                                            weights w: (UnsafePointer<E>, UnsafePointer<E>, UnsafePointer<E>, UnsafePointer<E>),
                                            outputs o: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                                        UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
        var a0 = Panel(), a1 = Panel(), a2 = Panel(), a3 = Panel()
        for k in 0..<depth {
            let b = splat(xi[k]), row = k * panelWidth
            a0.add(b, times: w.0 + row)
            if n > 1 { a1.add(b, times: w.1 + row) }
            if n > 2 { a2.add(b, times: w.2 + row) }
            if n > 3 { a3.add(b, times: w.3 + row) }
        }
        a0.store(o.0)
        if n > 1 { a1.store(o.1) }
        if n > 2 { a2.store(o.2) }
        if n > 3 { a3.store(o.3) }
    }

    /// W[k][r] += sum over i < count of x[i][k] * d[i][r], for k < depth and
    /// r < width (W in the panel layout): the weight gradient of `project`,
    /// summed over positions i in order, then added.
    public static func accumulateWeightGradient(count: Int, depth: Int, width: Int,
                                                input: ConstRows, gradient: ConstRows, into g: UnsafeMutablePointer<Float>) {
        let (x, inputStride, d, gradientStride) = (input.base, input.stride, gradient.base, gradient.stride)
        let panels = width / panelWidth, half = width % panelWidth != 0
        for p in 0..<panels {
            let base = g + p * panelWidth * depth, dp = d + p * panelWidth
            var k = 0
            #if RECUR_AVX512
            // Six weight rows at a time: twelve vector sums (three rows are
            // six at this width, too few to hide the FMA latency).
            while k + 6 <= depth {
                var a0 = Panel(), a1 = Panel(), a2 = Panel(), a3 = Panel(), a4 = Panel(), a5 = Panel()
                for i in 0..<count {
                    let row = dp + i * gradientStride, xi = x + i * inputStride + k
                    a0.add(splat(xi[0]), times: row)
                    a1.add(splat(xi[1]), times: row)
                    a2.add(splat(xi[2]), times: row)
                    a3.add(splat(xi[3]), times: row)
                    a4.add(splat(xi[4]), times: row)
                    a5.add(splat(xi[5]), times: row)
                }
                a0.store(base + k * panelWidth, accumulate: true)
                a1.store(base + (k + 1) * panelWidth, accumulate: true)
                a2.store(base + (k + 2) * panelWidth, accumulate: true)
                a3.store(base + (k + 3) * panelWidth, accumulate: true)
                a4.store(base + (k + 4) * panelWidth, accumulate: true)
                a5.store(base + (k + 5) * panelWidth, accumulate: true)
                k += 6
            }
            #endif
            // Three weight rows at a time: twelve vector sums per panel.
            while k + 3 <= depth {
                var a0 = Panel(), a1 = Panel(), a2 = Panel()
                for i in 0..<count {
                    let row = dp + i * gradientStride, xi = x + i * inputStride + k
                    a0.add(splat(xi[0]), times: row)
                    a1.add(splat(xi[1]), times: row)
                    a2.add(splat(xi[2]), times: row)
                }
                a0.store(base + k * panelWidth, accumulate: true)
                a1.store(base + (k + 1) * panelWidth, accumulate: true)
                a2.store(base + (k + 2) * panelWidth, accumulate: true)
                k += 3
            }
            while k < depth {
                var a = Panel()
                for i in 0..<count { a.add(splat(x[i * inputStride + k]), times: dp + i * gradientStride) }
                a.store(base + k * panelWidth, accumulate: true)
                k += 1
            }
        }
        if half {
            let base = g + panels * panelWidth * depth, dp = d + panels * panelWidth
            for k in 0..<depth {
                var a = HalfPanel()
                for i in 0..<count { a.add(splat(x[i * inputStride + k]), times: dp + i * gradientStride) }
                a.store(base + k * halfPanelWidth, accumulate: true)
            }
        }
    }

    /// g[r] += sum over i < count of d[i][r]: a bias gradient.
    public static func accumulateRows(count: Int, width: Int, gradient: ConstRows, into g: UnsafeMutablePointer<Float>) {
        let (d, gradientStride) = (gradient.base, gradient.stride)
        var r = 0
        while r < width {
            var a = Vec()
            for i in 0..<count { a += load(d + i * gradientStride + r) }
            store(load(g + r) + a, g + r)
            r += lanes
        }
    }
}
