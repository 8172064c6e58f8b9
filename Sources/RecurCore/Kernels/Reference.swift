// The reference kernels: plain loops, written to be obviously right, with
// the same signatures and layouts as the fast kernels (FastKernels in
// Sources/RecurKernels). They are the executable specification of the bits:
// every output element is the same chain of float32 operations, in the same
// order, as in the fast kernels (a sum over k from zero, one fused
// multiply-add per k; the approximations of Approximations.swift), so
// RECUR_CPU=reference gives the same bits as the AVX2 and AVX-512 levels.

enum ReferenceKernels {
    /// out[i][r] = sum over k < depth of x[i][k] * W[k][r] (W in the panel
    /// layout, see `panelIndex`).
    static func project(count: Int, depth: Int, width: Int, weights w: UnsafePointer<Float>,
                        input x: UnsafePointer<Float>, inputStride: Int,
                        output out: UnsafeMutablePointer<Float>, outputStride: Int) {
        for i in 0..<count {
            for r in 0..<width {
                var sum: Float = 0
                for k in 0..<depth {
                    sum = Approx.fused(sum, x[i * inputStride + k], w[panelIndex(input: k, output: r, depth: depth, width: width)])
                }
                out[i * outputStride + r] = sum
            }
        }
    }

    /// `project` with fp16 weights (bit patterns), widened to float32.
    static func projectHalf(count: Int, depth: Int, width: Int, weights w: UnsafePointer<UInt16>,
                            input x: UnsafePointer<Float>, inputStride: Int,
                            output out: UnsafeMutablePointer<Float>, outputStride: Int) {
        for i in 0..<count {
            for r in 0..<width {
                var sum: Float = 0
                for k in 0..<depth {
                    sum = Approx.fused(sum, x[i * inputStride + k],
                                       Float(Float16(bitPattern: w[panelIndex(input: k, output: r, depth: depth, width: width)])))
                }
                out[i * outputStride + r] = sum
            }
        }
    }

    /// W[k][r] += sum over i < count of x[i][k] * d[i][r].
    static func accumulateWeightGradient(count: Int, depth: Int, width: Int,
                                         input x: UnsafePointer<Float>, inputStride: Int,
                                         gradient d: UnsafePointer<Float>, gradientStride: Int,
                                         into g: UnsafeMutablePointer<Float>) {
        for k in 0..<depth {
            for r in 0..<width {
                var sum: Float = 0
                for i in 0..<count { sum = Approx.fused(sum, x[i * inputStride + k], d[i * gradientStride + r]) }
                g[panelIndex(input: k, output: r, depth: depth, width: width)] += sum
            }
        }
    }

    /// g[r] += sum over i < count of d[i][r].
    static func accumulateRows(count: Int, width: Int, gradient d: UnsafePointer<Float>, gradientStride: Int,
                               into g: UnsafeMutablePointer<Float>) {
        for r in 0..<width {
            var sum: Float = 0
            for i in 0..<count { sum += d[i * gradientStride + r] }
            g[r] += sum
        }
    }

    /// (W_ih x + b_ih) + (W_hh h + b_hh) of gate output `j`; an absent bias
    /// is not added (adding 0 would turn -0 into +0).
    @inline(__always)
    static func gate(_ ax: UnsafePointer<Float>, _ ah: UnsafePointer<Float>, _ bih: UnsafePointer<Float>?,
                     _ bhh: UnsafePointer<Float>?, _ j: Int) -> Float {
        var fromInput = ax[j], fromState = ah[j]
        if let bih { fromInput += bih[j] }
        if let bhh { fromState += bhh[j] }
        return fromInput + fromState
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { Approx.sigmoid(x) }
}
