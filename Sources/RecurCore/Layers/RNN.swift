// Elman RNN cell, reference version (plain loops; FastKernels.rnnForward /
// rnnBackward are the fast ones):
//   h' = act(W_ih x + b_ih + W_hh h + b_hh),  act = tanh | relu.
// The projections W_ih x and W_hh h arrive computed (ax, ah); these are the
// element-wise parts, for `count` streams, `hidden` = H padded to 16.

/// The `rnn` kind: 1 gate block; state h; no record (h_t is its output).
enum RNNLayer: LayerDefinition {
    static let gateCount = 1
    static let isRecurrent = true
    static let stateVectors = 1
    static let recordVectors = 0
    static let hasStateSideGradients = false
    static let carriesDirectGradient = false

    static func forward(_ layer: Layer, _ pass: ForwardPass) {
        let hidden = layer.paddedOutput, first = pass.first, relu = layer.activation == .relu
        let biasIH = pass.inputBias(layer), biasHH = pass.recurrentBias(layer)
        let (ax, ah, state, output) = (pass.inputProjections, pass.stateProjections, pass.state, pass.output)
        pass.runRecurrent(layer) { t in
            pass.kernels.rnnForward(pass.count, hidden, relu, ax.at(stream: first, step: t), ax.streamStride, ah[first], ah.stride,
                                    biasIH, biasHH, state[first], state.stride,
                                    output.at(stream: first, step: t), output.streamStride)
        }
    }

    static func backward(_ layer: Layer, _ pass: BackwardPass) {
        let hidden = layer.paddedOutput, first = pass.first, relu = layer.activation == .relu
        let (dOut, output, gates) = (pass.outputGradient, pass.output, pass.inputSideGradients)
        pass.runRecurrentBackward(layer) { t in
            pass.kernels.rnnBackward(pass.count, hidden, relu, dOut.at(stream: first, step: t), dOut.streamStride,
                                     pass.carryH[first], pass.carryH.stride,
                                     output.at(stream: first, step: t), output.streamStride,
                                     gates.at(stream: first, step: t), gates.streamStride)
        }
    }
}

enum RNNCell {
    static func forward(count: Int, hidden: Int, relu: Bool,
                        ax: UnsafePointer<Float>, axStride: Int, ah: UnsafePointer<Float>, ahStride: Int,
                        biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                        state: UnsafeMutablePointer<Float>, stateStride: Int,
                        output: UnsafeMutablePointer<Float>?, outputStride: Int) {
        for s in 0..<count {
            for j in 0..<hidden {
                let pre = ReferenceKernels.gate(ax + s * axStride, ah + s * ahStride, biasIH, biasHH, j)
                let h = relu ? (pre < 0 ? 0 : pre) : Approx.tanh(pre)
                state[s * stateStride + j] = h
                output?[s * outputStride + j] = h
            }
        }
    }

    /// dL/d(pre-activation) from dL/dh_t = outputGradient + carryH, and h_t.
    static func backward(count: Int, hidden: Int, relu: Bool,
                         outputGradient dOut: UnsafePointer<Float>, outputGradientStride: Int,
                         carryH: UnsafePointer<Float>, carryStride: Int,
                         output h: UnsafePointer<Float>, outputStride: Int,
                         gateGradient dGates: UnsafeMutablePointer<Float>, gateGradientStride: Int) {
        for s in 0..<count {
            for j in 0..<hidden {
                let dh = dOut[s * outputGradientStride + j] + carryH[s * carryStride + j]
                let y = h[s * outputStride + j]
                let slope: Float = relu ? (y <= 0 ? 0 : 1) : 1 - y * y
                dGates[s * gateGradientStride + j] = dh * slope
            }
        }
    }
}
