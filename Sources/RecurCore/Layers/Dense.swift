// Dense layer, reference version (plain loops; FastKernels.denseForward /
// denseBackward are the fast ones):  y = act(W x + b), every step on its own.
// W x arrives computed in `values`; this adds the bias, records the
// pre-activation values (the logits of a classification head) and applies
// the activation in place. Lanes from `units` to `width` are padding: zero.

/// The `dense` kind: y = act(W x + b) at every step on its own; no state;
/// a record of the pre-activation values (the logits a loss reads).
enum DenseLayer: LayerDefinition {
    static let gateCount = 1
    static let isRecurrent = false
    static let stateVectors = 0
    static let recordVectors = 1
    static let hasStateSideGradients = false
    static let carriesDirectGradient = false

    static func forward(_ layer: Layer, _ pass: ForwardPass) {
        // W x straight into the output, then bias and activation in place.
        pass.projectInputs(layer, into: pass.output)
        let (output, record) = (pass.output, pass.record)
        for stream in pass.streams {
            pass.kernels.denseForward(pass.steps, layer.outputSize, layer.width, layer.activation.code,
                                      output.at(stream: stream, step: 0), output.stepStride, pass.inputBias(layer),
                                      record?.at(stream: stream, step: 0), record?.stepStride ?? 0)
        }
    }

    static func backward(_ layer: Layer, _ pass: BackwardPass) {
        let (dOut, output, gates) = (pass.outputGradient, pass.output, pass.inputSideGradients)
        for stream in pass.streams {
            pass.kernels.denseBackward(pass.steps, layer.width, layer.activation.code, pass.throughActivation,
                                       dOut.at(stream: stream, step: 0), dOut.stepStride,
                                       output.at(stream: stream, step: 0), output.stepStride,
                                       gates.at(stream: stream, step: 0), gates.stepStride)
        }
    }
}

enum DenseCell {
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
