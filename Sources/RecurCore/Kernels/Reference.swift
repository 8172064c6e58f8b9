// The reference kernels: plain loops, written to be obviously right, with
// the same interface and layouts as the fast kernels (`Kernels`; FastKernels
// in Sources/RecurKernels). They are the executable specification of the
// bits: every output element is the same chain of float32 operations, in the
// same order, as in the fast kernels (a sum over k from zero, one fused
// multiply-add per k; the approximations of Approximations.swift), so
// RECUR_CPU=reference gives the same bits as the AVX2 and AVX-512 levels.
// The cells' kernels are in their kinds' files (Layers/<Kind>.swift).
import RecurKernelInterface

enum ReferenceKernels: Kernels {
    static func exponentials(count: Int, values: UnsafeMutablePointer<Float>) {
        for i in 0..<count { values[i] = Approx.exp(values[i]) }
    }

    /// W in the panel layout, see `panelIndex`.
    static func project(count: Int, depth: Int, width: Int, weights w: UnsafePointer<Float>,
                        input: ConstRows, output: MutableRows) {
        let (x, inputStride, out, outputStride) = (input.base, input.stride, output.base, output.stride)
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

    static func projectHalf(count: Int, depth: Int, width: Int, weights w: UnsafePointer<UInt16>,
                            input: ConstRows, output: MutableRows) {
        let (x, inputStride, out, outputStride) = (input.base, input.stride, output.base, output.stride)
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

    static func accumulateWeightGradient(count: Int, depth: Int, width: Int,
                                         input: ConstRows, gradient: ConstRows, into g: UnsafeMutablePointer<Float>) {
        let (x, inputStride, d, gradientStride) = (input.base, input.stride, gradient.base, gradient.stride)
        for k in 0..<depth {
            for r in 0..<width {
                var sum: Float = 0
                for i in 0..<count { sum = Approx.fused(sum, x[i * inputStride + k], d[i * gradientStride + r]) }
                g[panelIndex(input: k, output: r, depth: depth, width: width)] += sum
            }
        }
    }

    static func accumulateRows(count: Int, width: Int, gradient: ConstRows, into g: UnsafeMutablePointer<Float>) {
        let (d, gradientStride) = (gradient.base, gradient.stride)
        for r in 0..<width {
            var sum: Float = 0
            for i in 0..<count { sum += d[i * gradientStride + r] }
            g[r] += sum
        }
    }

    /// One stream as rows (a single row: the stride is never used).
    @inline(__always) static func one(_ p: UnsafePointer<Float>) -> ConstRows { ConstRows(base: p, stride: 0) }
    @inline(__always) static func one(_ p: UnsafeMutablePointer<Float>) -> MutableRows { MutableRows(base: p, stride: 0) }

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
