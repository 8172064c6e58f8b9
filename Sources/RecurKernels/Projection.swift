// Matrix products over weights stored k-major ("transposed"): row k of a
// weight block holds the k-th input's weight for every output, `width`
// floats (a multiple of 16, zero-padded). A vector load then reads 4/8/16
// outputs' weights for one input, so outputs are computed lane-parallel and
// each output keeps its own sum, in input order.

public enum FastKernels {
    /// out[i][r] = sum over k < depth of x[i][k] * w[k][r], for i < count and
    /// r < width. Sum in order of k, one FMA per k, from zero.
    public static func project(count: Int, depth: Int, width: Int, weights w: UnsafePointer<Float>,
                               input x: UnsafePointer<Float>, inputStride: Int,
                               output out: UnsafeMutablePointer<Float>, outputStride: Int) {
        var i = 0
        // Four streams at a time share each weight load (the batched case).
        while i + 4 <= count && width >= 2 * lanes {
            let (x0, x1, x2, x3) = (x + i * inputStride, x + (i + 1) * inputStride, x + (i + 2) * inputStride, x + (i + 3) * inputStride)
            var r = 0
            while r + 2 * lanes <= width {
                var a00 = Vec(), a01 = Vec(), a10 = Vec(), a11 = Vec()
                var a20 = Vec(), a21 = Vec(), a30 = Vec(), a31 = Vec()
                var row = w + r
                for k in 0..<depth {
                    let w0 = load(row), w1 = load(row + lanes)
                    let b0 = splat(x0[k]), b1 = splat(x1[k]), b2 = splat(x2[k]), b3 = splat(x3[k])
                    a00 = fma(a00, b0, w0); a01 = fma(a01, b0, w1)
                    a10 = fma(a10, b1, w0); a11 = fma(a11, b1, w1)
                    a20 = fma(a20, b2, w0); a21 = fma(a21, b2, w1)
                    a30 = fma(a30, b3, w0); a31 = fma(a31, b3, w1)
                    row += width
                }
                let o = out + i * outputStride + r
                store(a00, o); store(a01, o + lanes)
                store(a10, o + outputStride); store(a11, o + outputStride + lanes)
                store(a20, o + 2 * outputStride); store(a21, o + 2 * outputStride + lanes)
                store(a30, o + 3 * outputStride); store(a31, o + 3 * outputStride + lanes)
                r += 2 * lanes
            }
            while r < width {
                var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
                var row = w + r
                for k in 0..<depth {
                    let w0 = load(row)
                    a0 = fma(a0, splat(x0[k]), w0); a1 = fma(a1, splat(x1[k]), w0)
                    a2 = fma(a2, splat(x2[k]), w0); a3 = fma(a3, splat(x3[k]), w0)
                    row += width
                }
                let o = out + i * outputStride + r
                store(a0, o); store(a1, o + outputStride); store(a2, o + 2 * outputStride); store(a3, o + 3 * outputStride)
                r += lanes
            }
            i += 4
        }
        // One stream at a time: many independent sums hide the FMA latency.
        while i < count {
            let xi = x + i * inputStride, o = out + i * outputStride
            var r = 0
            while r + 4 * lanes <= width {
                var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
                var row = w + r
                for k in 0..<depth {
                    let b = splat(xi[k])
                    a0 = fma(a0, b, load(row)); a1 = fma(a1, b, load(row + lanes))
                    a2 = fma(a2, b, load(row + 2 * lanes)); a3 = fma(a3, b, load(row + 3 * lanes))
                    row += width
                }
                store(a0, o + r); store(a1, o + r + lanes); store(a2, o + r + 2 * lanes); store(a3, o + r + 3 * lanes)
                r += 4 * lanes
            }
            while r < width {
                var a0 = Vec()
                var row = w + r
                for k in 0..<depth {
                    a0 = fma(a0, splat(xi[k]), load(row))
                    row += width
                }
                store(a0, o + r)
                r += lanes
            }
            i += 1
        }
    }

    /// out[i][k] (+)= sum over r < width of w[k][r] * d[i][r], for i < count
    /// and k < depth: the backward of `project` (dL/dx = W dL/dy). Each sum is
    /// one vector accumulator over r in order, then its lanes in a fixed tree.
    /// With `accumulate`, adds to out instead of overwriting it.
    public static func projectBackward(count: Int, depth: Int, width: Int, weights w: UnsafePointer<Float>,
                                       gradient d: UnsafePointer<Float>, gradientStride: Int,
                                       output out: UnsafeMutablePointer<Float>, outputStride: Int, accumulate: Bool) {
        for i in 0..<count {
            let di = d + i * gradientStride, o = out + i * outputStride
            var k = 0
            while k + 4 <= depth {
                var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
                let (w0, w1, w2, w3) = (w + k * width, w + (k + 1) * width, w + (k + 2) * width, w + (k + 3) * width)
                var r = 0
                while r < width {
                    let dv = load(di + r)
                    a0 = fma(a0, load(w0 + r), dv); a1 = fma(a1, load(w1 + r), dv)
                    a2 = fma(a2, load(w2 + r), dv); a3 = fma(a3, load(w3 + r), dv)
                    r += lanes
                }
                let sums = (horizontalSum(a0), horizontalSum(a1), horizontalSum(a2), horizontalSum(a3))
                if accumulate {
                    o[k] += sums.0; o[k + 1] += sums.1; o[k + 2] += sums.2; o[k + 3] += sums.3
                } else {
                    o[k] = sums.0; o[k + 1] = sums.1; o[k + 2] = sums.2; o[k + 3] = sums.3
                }
                k += 4
            }
            while k < depth {
                var a0 = Vec()
                let wk = w + k * width
                var r = 0
                while r < width {
                    a0 = fma(a0, load(wk + r), load(di + r))
                    r += lanes
                }
                o[k] = accumulate ? o[k] + horizontalSum(a0) : horizontalSum(a0)
                k += 1
            }
        }
    }

    /// g[k][r] += sum over i < count of x[i][k] * d[i][r], for k < depth and
    /// r < width: the weight gradient of `project`, summed over positions i
    /// in order, then added to g.
    public static func accumulateWeightGradient(count: Int, depth: Int, width: Int,
                                                input x: UnsafePointer<Float>, inputStride: Int,
                                                gradient d: UnsafePointer<Float>, gradientStride: Int,
                                                into g: UnsafeMutablePointer<Float>) {
        var k = 0
        while k < depth {
            let rows = min(4, depth - k)
            var r = 0
            while r < width {
                if rows == 4 {
                    var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
                    for i in 0..<count {
                        let dv = load(d + i * gradientStride + r)
                        let xi = x + i * inputStride + k
                        a0 = fma(a0, splat(xi[0]), dv); a1 = fma(a1, splat(xi[1]), dv)
                        a2 = fma(a2, splat(xi[2]), dv); a3 = fma(a3, splat(xi[3]), dv)
                    }
                    let gk = g + k * width + r
                    store(load(gk) + a0, gk); store(load(gk + width) + a1, gk + width)
                    store(load(gk + 2 * width) + a2, gk + 2 * width); store(load(gk + 3 * width) + a3, gk + 3 * width)
                } else {
                    for q in 0..<rows {
                        var a = Vec()
                        for i in 0..<count { a = fma(a, splat(x[i * inputStride + k + q]), load(d + i * gradientStride + r)) }
                        let gk = g + (k + q) * width + r
                        store(load(gk) + a, gk)
                    }
                }
                r += lanes
            }
            k += rows
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
