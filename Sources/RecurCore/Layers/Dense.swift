// Dense layer, reference version (plain loops; FastKernels.denseForward /
// denseBackward are the fast ones):  y = act(W x + b), every step on its own.
// W x arrives computed in `values`; this adds the bias, records the
// pre-activation values (the logits of a classification head) and applies
// the activation in place. Lanes from `units` to `width` are padding: zero.
import Glibc

enum DenseLayer {
    static func forward(count: Int, units: Int, width: Int, activation: Int,
                        values z: UnsafeMutablePointer<Float>, stride: Int, bias: UnsafePointer<Float>?,
                        record: UnsafeMutablePointer<Float>?, recordStride: Int) {
        for s in 0..<count {
            let v = z + s * stride
            for j in 0..<units {
                v[j] += bias?[j] ?? 0
                record?[s * recordStride + j] = v[j]
            }
            switch activation {
            case 1: for j in 0..<units { v[j] = max(v[j], 0) }
            case 2: for j in 0..<units { v[j] = tanhf(v[j]) }
            case 3: for j in 0..<units { v[j] = ReferenceKernels.sigmoid(v[j]) }
            case 4:
                var largest = -Float.infinity
                for j in 0..<units { largest = max(largest, v[j]) }
                var total: Float = 0
                for j in 0..<units {
                    v[j] = expf(v[j] - largest)
                    total += v[j]
                }
                for j in 0..<units { v[j] /= total }
            default: break
            }
            for j in units..<width { v[j] = 0 }
            if let record { for j in units..<width { record[s * recordStride + j] = 0 } }
        }
    }

    /// dL/dz from dL/dy and y; with `throughActivation` false (a loss on
    /// logits) dL/dz = dL/dy.
    static func backward(count: Int, width: Int, activation: Int, throughActivation: Bool,
                         outputGradient dy: UnsafePointer<Float>, outputGradientStride: Int,
                         output y: UnsafePointer<Float>, outputStride: Int,
                         gradient dz: UnsafeMutablePointer<Float>, gradientStride: Int) {
        let kind = throughActivation ? activation : 0
        for s in 0..<count {
            let (g, out, d) = (dy + s * outputGradientStride, y + s * outputStride, dz + s * gradientStride)
            var dot: Float = 0
            if kind == 4 { for j in 0..<width { dot += g[j] * out[j] } }
            for j in 0..<width {
                switch kind {
                case 1: d[j] = out[j] > 0 ? g[j] : 0
                case 2: d[j] = g[j] * (1 - out[j] * out[j])
                case 3: d[j] = g[j] * out[j] * (1 - out[j])
                case 4: d[j] = out[j] * (g[j] - dot)
                default: d[j] = g[j]
                }
            }
        }
    }
}
