// Dense layer, reference version (plain loops; FastKernels.denseForward /
// denseBackward are the fast ones):  y = act(W x + b), every step on its own.
// W x arrives computed in `values`; this adds the bias, records the
// pre-activation values (the logits of a classification head) and applies
// the activation in place. Lanes from `units` to `width` are padding: zero.

enum DenseLayer {
    static func forward(count: Int, units: Int, width: Int, activation: Int,
                        values z: UnsafeMutablePointer<Float>, stride: Int, bias: UnsafePointer<Float>?,
                        record: UnsafeMutablePointer<Float>?, recordStride: Int) {
        for s in 0..<count {
            let v = z + s * stride
            for j in 0..<units {
                if let bias { v[j] += bias[j] }
                record?[s * recordStride + j] = v[j]
            }
            switch activation {
            case 1: for j in 0..<units where v[j] < 0 { v[j] = 0 }     // -0 and NaN stay
            case 2: for j in 0..<units { v[j] = Approx.tanh(v[j]) }
            case 3: for j in 0..<units { v[j] = Approx.sigmoid(v[j]) }
            case 4:
                // e^(v - max), padding lanes 0; their sum as 16 lanes and a
                // tree (Approx.sum16); each times the sum's inverse.
                var largest = -Float.infinity
                for j in 0..<units { largest = max(largest, v[j]) }
                for j in 0..<width { v[j] = j < units ? Approx.exp(v[j] - largest) : 0 }
                let inverse = 1 / Approx.sum16(v, count: width)
                for j in 0..<units { v[j] = v[j] * inverse }
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
            if kind == 4 { dot = Approx.dot16(g, out, count: width) }
            for j in 0..<width {
                switch kind {
                case 1: d[j] = out[j] <= 0 ? 0 : g[j]
                case 2: d[j] = g[j] * (1 - out[j] * out[j])
                case 3: d[j] = g[j] * out[j] * (1 - out[j])
                case 4: d[j] = out[j] * (g[j] - dot)
                default: d[j] = g[j]
                }
            }
        }
    }
}
