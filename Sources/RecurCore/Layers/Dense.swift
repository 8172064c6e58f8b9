// The `dense` layer kind: its facts, its forward and backward pass, and its
// reference kernels (plain loops; FastKernels.denseForward / denseBackward
// are the fast ones):  y = act(W x + b), every step on its own.
// W x arrives computed in `values`; this adds the bias, records the
// pre-activation values (the logits of a classification head) and applies
// the activation in place. Lanes from `units` to `width` are padding: zero.
import RecurKernelInterface

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
        for stream in pass.streams where pass.steps(of: stream) > 0 {
            pass.kernels.denseForward(count: pass.steps(of: stream), units: layer.outputSize, width: layer.width,
                                      activation: layer.activation.code, values: output.steps(of: stream),
                                      bias: pass.inputBias(layer), record: record?.steps(of: stream))
        }
    }

    static func backward(_ layer: Layer, _ pass: BackwardPass) {
        let (dOut, output, gates) = (pass.outputGradient, pass.output, pass.inputSideGradients)
        for stream in pass.streams where pass.steps(of: stream) > 0 {
            pass.kernels.denseBackward(count: pass.steps(of: stream), width: layer.width, activation: layer.activation.code,
                                       throughActivation: pass.throughActivation,
                                       outputGradient: dOut.steps(of: stream).readOnly, output: output.steps(of: stream).readOnly,
                                       gradient: gates.steps(of: stream))
        }
    }
}

extension ReferenceKernels {
    static func denseForward(count: Int, units: Int, width: Int, activation: ActivationCode,
                             values: MutableRows, bias: UnsafePointer<Float>?, record: MutableRows?) {
        for s in 0..<count {
            let v = values[s]
            for j in 0..<units {
                if let bias { v[j] += bias[j] }
                record?[s][j] = v[j]
            }
            switch activation {
            case .relu: for j in 0..<units where v[j] < 0 { v[j] = 0 }     // -0 and NaN stay
            case .tanh: for j in 0..<units { v[j] = Approx.tanh(v[j]) }
            case .sigmoid: for j in 0..<units { v[j] = Approx.sigmoid(v[j]) }
            case .softmax:
                // e^(v - max), padding lanes 0; their sum as 16 lanes and a
                // tree (Approx.sum16); each times the sum's inverse.
                var largest = -Float.infinity
                for j in 0..<units { largest = max(largest, v[j]) }
                for j in 0..<width { v[j] = j < units ? Approx.exp(v[j] - largest) : 0 }
                let inverse = 1 / Approx.sum16(v, count: width)
                for j in 0..<units { v[j] = v[j] * inverse }
            case .linear: break
            }
            for j in units..<width { v[j] = 0 }
            if let record { for j in units..<width { record[s][j] = 0 } }
        }
    }

    static func denseBackward(count: Int, width: Int, activation: ActivationCode, throughActivation: Bool,
                              outputGradient: ConstRows, output: ConstRows, gradient: MutableRows) {
        let kind = throughActivation ? activation : .linear
        for s in 0..<count {
            let (g, out, d) = (outputGradient[s], output[s], gradient[s])
            var dot: Float = 0
            if kind == .softmax { dot = Approx.dot16(g, out, count: width) }
            for j in 0..<width {
                switch kind {
                case .relu: d[j] = out[j] <= 0 ? 0 : g[j]
                case .tanh: d[j] = g[j] * (1 - out[j] * out[j])
                case .sigmoid: d[j] = g[j] * out[j] * (1 - out[j])
                case .softmax: d[j] = out[j] * (g[j] - dot)
                case .linear: d[j] = g[j]
                }
            }
        }
    }
}
