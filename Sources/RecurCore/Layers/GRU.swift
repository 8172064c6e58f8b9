// GRU cell, reference version (plain loops; FastKernels.gruForward /
// gruBackward are the fast ones). PyTorch's gate order r, z, n (Keras'
// reset_after=True variant):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h
// A record holds r, z, n and W_hn h + b_hn.

/// The `gru` kind: 3 gate blocks; state h; a record of r, z, n and
/// W_hn h + b_hn. Its n gate differs between the input side and the state
/// side, so its backward pass writes both.
enum GRULayer: LayerDefinition {
    static let gateCount = 3
    static let isRecurrent = true
    static let stateVectors = 1
    static let recordVectors = 4
    static let hasStateSideGradients = true
    static let carriesDirectGradient = true

    static func forward(_ layer: Layer, _ pass: ForwardPass) {
        let hidden = layer.paddedOutput, first = pass.first
        let biasIH = pass.inputBias(layer), biasHH = pass.recurrentBias(layer)
        let (ax, ah, state, output, record) = (pass.inputProjections, pass.stateProjections, pass.state, pass.output, pass.record)
        pass.runRecurrent(layer) { t in
            pass.kernels.gruForward(pass.count, hidden, ax.at(stream: first, step: t), ax.streamStride, ah[first], ah.stride,
                                    biasIH, biasHH, state[first], state.stride,
                                    output.at(stream: first, step: t), output.streamStride,
                                    record?.at(stream: first, step: t), record?.streamStride ?? 0)
        }
    }

    static func backward(_ layer: Layer, _ pass: BackwardPass) {
        let hidden = layer.paddedOutput, first = pass.first
        let (dOut, record, output) = (pass.outputGradient, pass.record, pass.output)
        let (inputSide, stateSide) = (pass.inputSideGradients, pass.stateSideGradients)
        pass.runRecurrentBackward(layer) { t in
            pass.kernels.gruBackward(pass.count, hidden, dOut.at(stream: first, step: t), dOut.streamStride,
                                     pass.carryH[first], pass.carryH.stride,
                                     record.at(stream: first, step: t), record.streamStride,
                                     output.at(stream: first, step: t) - output.stepStride, output.streamStride,
                                     inputSide.at(stream: first, step: t), stateSide.at(stream: first, step: t),
                                     inputSide.streamStride)
        }
    }
}

enum GRUCell {
    static func forward(count: Int, hidden: Int,
                        ax: UnsafePointer<Float>, axStride: Int, ah: UnsafePointer<Float>, ahStride: Int,
                        biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                        state: UnsafeMutablePointer<Float>, stateStride: Int,
                        output: UnsafeMutablePointer<Float>?, outputStride: Int,
                        record: UnsafeMutablePointer<Float>?, recordStride: Int) {
        for s in 0..<count {
            let (a, b) = (ax + s * axStride, ah + s * ahStride)
            let h = state + s * stateStride
            for j in 0..<hidden {
                let r = ReferenceKernels.sigmoid(ReferenceKernels.gate(a, b, biasIH, biasHH, j))
                let z = ReferenceKernels.sigmoid(ReferenceKernels.gate(a, b, biasIH, biasHH, hidden + j))
                var fromInputN = a[2 * hidden + j], fromStateN = b[2 * hidden + j]
                if let biasIH { fromInputN += biasIH[2 * hidden + j] }
                if let biasHH { fromStateN += biasHH[2 * hidden + j] }
                let n = Approx.tanh(fromInputN + r * fromStateN)
                h[j] = (1 - z) * n + z * h[j]
                output?[s * outputStride + j] = h[j]
                if let record {
                    let rec = record + s * recordStride
                    rec[j] = r; rec[hidden + j] = z; rec[2 * hidden + j] = n; rec[3 * hidden + j] = fromStateN
                }
            }
        }
    }

    /// Gate gradients of the input side (r, z, n) and the state side
    /// (r, z, r * n) from dL/dh_t = outputGradient + carryH; leaves the direct
    /// part z * dh of dL/dh_t-1 in carryH (the caller adds W_hh's part).
    static func backward(count: Int, hidden: Int,
                         outputGradient dOut: UnsafePointer<Float>, outputGradientStride: Int,
                         carryH: UnsafeMutablePointer<Float>, carryStride: Int,
                         record: UnsafePointer<Float>, recordStride: Int,
                         previousH: UnsafePointer<Float>, previousHStride: Int,
                         inputSide: UnsafeMutablePointer<Float>, stateSide: UnsafeMutablePointer<Float>,
                         gateGradientStride: Int) {
        for s in 0..<count {
            let rec = record + s * recordStride, hPrevious = previousH + s * previousHStride
            let (gx, gh) = (inputSide + s * gateGradientStride, stateSide + s * gateGradientStride)
            for j in 0..<hidden {
                let dh = dOut[s * outputGradientStride + j] + carryH[s * carryStride + j]
                let (r, z, n, fromStateN) = (rec[j], rec[hidden + j], rec[2 * hidden + j], rec[3 * hidden + j])
                let dn = dh * (1 - z) * (1 - n * n)
                let dz = dh * (hPrevious[j] - n) * z * (1 - z)
                let dr = dn * fromStateN * r * (1 - r)
                gx[j] = dr; gx[hidden + j] = dz; gx[2 * hidden + j] = dn
                gh[j] = dr; gh[hidden + j] = dz; gh[2 * hidden + j] = dn * r
                carryH[s * carryStride + j] = dh * z
            }
        }
    }
}
