// The `gru` layer kind: its facts, its forward and backward pass, and its
// reference cell (plain loops; FastKernels.gruForward / gruBackward are the
// fast ones). PyTorch's gate order r, z, n (Keras'
// reset_after=True variant):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h
// A record holds r, z, n and W_hn h + b_hn.
import RecurKernelInterface

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
        let hidden = layer.paddedHidden
        let biasIH = pass.inputBias(layer), biasHH = pass.recurrentBias(layer)
        let (ax, ah, state, output, record) = (pass.inputProjections, pass.stateProjections, pass.state, pass.output, pass.record)
        pass.runRecurrent(layer, fusedSteps: { steps, stream, weights in
            pass.kernels.gruSteps(steps.count, depth: layer.hiddenSize, hidden: hidden, stateWeights: weights,
                                  inputProjections: ax.steps(of: stream).from(steps.lowerBound).readOnly, biasIH: biasIH, biasHH: biasHH,
                                  stateProjection: ah[stream], state: state[stream], outputs: output.steps(of: stream).from(steps.lowerBound))
        }) { t, rows in
            let first = rows.lowerBound
            pass.kernels.gruForward(count: rows.count, hidden: hidden,
                                    inputProjection: ax.step(t, from: first).readOnly, stateProjection: ah.from(first).readOnly,
                                    biasIH: biasIH, biasHH: biasHH, state: state.from(first),
                                    output: output.step(t, from: first), record: record?.step(t, from: first))
        }
    }

    static func backward(_ layer: Layer, _ pass: BackwardPass) {
        let hidden = layer.paddedHidden
        let (dOut, record, output) = (pass.outputGradient, pass.record, pass.output)
        let (inputSide, stateSide) = (pass.inputSideGradients, pass.stateSideGradients)
        pass.runRecurrentBackward(layer) { t, rows in
            let first = rows.lowerBound
            pass.kernels.gruBackward(count: rows.count, hidden: hidden, outputGradient: dOut.step(t, from: first).readOnly,
                                     carryH: pass.carryH.from(first), record: record.step(t, from: first).readOnly,
                                     previousH: output.step(t - 1, from: first).readOnly,
                                     inputSide: inputSide.step(t, from: first), stateSide: stateSide.step(t, from: first))
        }
    }
}

extension ReferenceKernels {
    static func gruSteps(_ steps: Int, depth: Int, hidden: Int, stateWeights: UnsafePointer<Float>,
                         inputProjections: ConstRows, biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                         stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                         outputs: MutableRows) {
        for t in 0..<steps {
            project(count: 1, depth: depth, width: 3 * hidden, weights: stateWeights, input: one(state), output: one(stateProjection))
            gruForward(count: 1, hidden: hidden, inputProjection: one(inputProjections[t]),
                       stateProjection: one(stateProjection), biasIH: biasIH, biasHH: biasHH, state: one(state),
                       output: one(outputs[t]), record: nil)
        }
    }

    static func gruForward(count: Int, hidden: Int, inputProjection: ConstRows, stateProjection: ConstRows,
                           biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                           state: MutableRows, output: MutableRows?, record: MutableRows?) {
        for s in 0..<count {
            let (a, b) = (inputProjection[s], stateProjection[s])
            let h = state[s]
            for j in 0..<hidden {
                let r = sigmoid(gate(a, b, biasIH, biasHH, j))
                let z = sigmoid(gate(a, b, biasIH, biasHH, hidden + j))
                var fromInputN = a[2 * hidden + j], fromStateN = b[2 * hidden + j]
                if let biasIH { fromInputN += biasIH[2 * hidden + j] }
                if let biasHH { fromStateN += biasHH[2 * hidden + j] }
                let n = Approx.tanh(fromInputN + r * fromStateN)
                h[j] = (1 - z) * n + z * h[j]
                output?[s][j] = h[j]
                if let record {
                    let rec = record[s]
                    rec[j] = r; rec[hidden + j] = z; rec[2 * hidden + j] = n; rec[3 * hidden + j] = fromStateN
                }
            }
        }
    }

    static func gruBackward(count: Int, hidden: Int, outputGradient: ConstRows, carryH: MutableRows,
                            record: ConstRows, previousH: ConstRows, inputSide: MutableRows, stateSide: MutableRows) {
        for s in 0..<count {
            let rec = record[s], hPrevious = previousH[s]
            let (gx, gh, carry) = (inputSide[s], stateSide[s], carryH[s])
            for j in 0..<hidden {
                let dh = outputGradient[s][j] + carry[j]
                let (r, z, n, fromStateN) = (rec[j], rec[hidden + j], rec[2 * hidden + j], rec[3 * hidden + j])
                let dn = dh * (1 - z) * (1 - n * n)
                let dz = dh * (hPrevious[j] - n) * z * (1 - z)
                let dr = dn * fromStateN * r * (1 - r)
                gx[j] = dr; gx[hidden + j] = dz; gx[2 * hidden + j] = dn
                gh[j] = dr; gh[hidden + j] = dz; gh[2 * hidden + j] = dn * r
                carry[j] = dh * z
            }
        }
    }
}
