// LSTM cell, reference version (plain loops; FastKernels.lstmForward /
// lstmBackward are the fast ones). PyTorch's gate order i, f, g, o:
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(...)     g = tanh(...)     o = σ(...)
//   c' = f * c + i * g                       h' = o * tanh(c')
// Gate blocks are `hidden` (H padded to 16) floats apart; the state holds h
// then c; a record holds i, f, g, o, c'.

/// The `lstm` kind: 4 gate blocks; state h and c; a record of i, f, g, o, c'.
enum LSTMLayer: LayerDefinition {
    static let gateCount = 4
    static let isRecurrent = true
    static let stateVectors = 2
    static let recordVectors = 5
    static let hasStateSideGradients = false
    static let carriesDirectGradient = false

    static func forward(_ layer: Layer, _ pass: ForwardPass) {
        let hidden = layer.paddedOutput, first = pass.first
        let biasIH = pass.inputBias(layer), biasHH = pass.recurrentBias(layer)
        let (ax, ah, state, output, record) = (pass.inputProjections, pass.stateProjections, pass.state, pass.output, pass.record)
        if pass.keepsInitialState, let record {
            // The record keeps c: the initial c one step before the first.
            for stream in pass.streams {
                (record.at(stream: stream, step: 0) - record.stepStride + 4 * hidden).update(from: state[stream] + hidden, count: hidden)
            }
        }
        pass.runRecurrent(layer) { t in
            pass.kernels.lstmForward(pass.count, hidden, ax.at(stream: first, step: t), ax.streamStride, ah[first], ah.stride,
                                     biasIH, biasHH, state[first], state.stride,
                                     output.at(stream: first, step: t), output.streamStride,
                                     record?.at(stream: first, step: t), record?.streamStride ?? 0)
        }
    }

    static func backward(_ layer: Layer, _ pass: BackwardPass) {
        let hidden = layer.paddedOutput, first = pass.first
        let (dOut, record, gates) = (pass.outputGradient, pass.record, pass.inputSideGradients)
        pass.runRecurrentBackward(layer) { t in
            let now = record.at(stream: first, step: t)
            pass.kernels.lstmBackward(pass.count, hidden, dOut.at(stream: first, step: t), dOut.streamStride,
                                      pass.carryH[first], pass.carryC[first], pass.carryH.stride,
                                      now, now - record.stepStride, record.streamStride,
                                      gates.at(stream: first, step: t), gates.streamStride)
        }
    }
}

enum LSTMCell {
    static func forward(count: Int, hidden: Int,
                        ax: UnsafePointer<Float>, axStride: Int, ah: UnsafePointer<Float>, ahStride: Int,
                        biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                        state: UnsafeMutablePointer<Float>, stateStride: Int,
                        output: UnsafeMutablePointer<Float>?, outputStride: Int,
                        record: UnsafeMutablePointer<Float>?, recordStride: Int) {
        for s in 0..<count {
            let (a, b) = (ax + s * axStride, ah + s * ahStride)
            let h = state + s * stateStride, c = h + hidden
            for j in 0..<hidden {
                let i = ReferenceKernels.sigmoid(ReferenceKernels.gate(a, b, biasIH, biasHH, j))
                let f = ReferenceKernels.sigmoid(ReferenceKernels.gate(a, b, biasIH, biasHH, hidden + j))
                let g = Approx.tanh(ReferenceKernels.gate(a, b, biasIH, biasHH, 2 * hidden + j))
                let o = ReferenceKernels.sigmoid(ReferenceKernels.gate(a, b, biasIH, biasHH, 3 * hidden + j))
                c[j] = f * c[j] + i * g
                h[j] = o * Approx.tanh(c[j])
                output?[s * outputStride + j] = h[j]
                if let record {
                    let r = record + s * recordStride
                    r[j] = i; r[hidden + j] = f; r[2 * hidden + j] = g; r[3 * hidden + j] = o; r[4 * hidden + j] = c[j]
                }
            }
        }
    }

    /// Gate gradients (pre-activation) from dL/dh_t = outputGradient + carryH
    /// and dL/dc_t = carryC; leaves dL/dc_t-1 in carryC. `record` is step t's
    /// record, `previousRecord` step t-1's (for c_t-1).
    static func backward(count: Int, hidden: Int,
                         outputGradient dOut: UnsafePointer<Float>, outputGradientStride: Int,
                         carryH: UnsafePointer<Float>, carryC: UnsafeMutablePointer<Float>, carryStride: Int,
                         record: UnsafePointer<Float>, previousRecord: UnsafePointer<Float>, recordStride: Int,
                         gateGradient dGates: UnsafeMutablePointer<Float>, gateGradientStride: Int) {
        for s in 0..<count {
            let r = record + s * recordStride, cPrevious = previousRecord + s * recordStride + 4 * hidden
            let dg = dGates + s * gateGradientStride
            for j in 0..<hidden {
                let dh = dOut[s * outputGradientStride + j] + carryH[s * carryStride + j]
                let (i, f, g, o, c) = (r[j], r[hidden + j], r[2 * hidden + j], r[3 * hidden + j], r[4 * hidden + j])
                let tanhC = Approx.tanh(c)
                let dcTotal = carryC[s * carryStride + j] + dh * o * (1 - tanhC * tanhC)
                dg[j] = dcTotal * g * i * (1 - i)
                dg[hidden + j] = dcTotal * cPrevious[j] * f * (1 - f)
                dg[2 * hidden + j] = dcTotal * i * (1 - g * g)
                dg[3 * hidden + j] = dh * tanhC * o * (1 - o)
                carryC[s * carryStride + j] = dcTotal * f
            }
        }
    }
}
