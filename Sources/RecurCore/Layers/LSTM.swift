// The `lstm` layer kind: its facts, its forward and backward pass, and its
// reference cell (plain loops; FastKernels.lstmForward / lstmBackward are
// the fast ones). PyTorch's gate order i, f, g, o:
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(...)     g = tanh(...)     o = σ(...)
//   c' = f * c + i * g                       h' = o * tanh(c')
// Gate blocks are `hidden` (H padded to 16) floats apart; the state holds h
// then c; a record holds i, f, g, o, c'.
import RecurKernelInterface

/// The `lstm` kind: 4 gate blocks; state h and c; a record of i, f, g, o, c'.
enum LSTMLayer: LayerDefinition {
    static let gateCount = 4
    static let isRecurrent = true
    static let stateVectors = 2
    static let recordVectors = 5
    static let hasStateSideGradients = false
    static let carriesDirectGradient = false

    static func forward(_ layer: Layer, _ pass: ForwardPass) {
        let hidden = layer.paddedHidden
        let biasIH = pass.inputBias(layer), biasHH = pass.recurrentBias(layer)
        let (ax, ah, state, output, record) = (pass.inputProjections, pass.stateProjections, pass.state, pass.output, pass.record)
        if pass.keepsInitialState, let record {
            // The record keeps c: the initial c one step before the first.
            for stream in pass.streams {
                (record.at(stream: stream, step: 0) - record.stepStride + 4 * hidden).update(from: state[stream] + hidden, count: hidden)
            }
        }
        pass.runRecurrent(layer, fusedSteps: { steps, stream, weights in
            pass.kernels.lstmSteps(steps.count, depth: layer.hiddenSize, hidden: hidden, stateWeights: weights,
                                   inputProjections: ax.steps(of: stream).from(steps.lowerBound).readOnly, biasIH: biasIH, biasHH: biasHH,
                                   stateProjection: ah[stream], state: state[stream], outputs: output.steps(of: stream).from(steps.lowerBound))
        }) { t, rows in
            let first = rows.lowerBound
            pass.kernels.lstmForward(count: rows.count, hidden: hidden,
                                     inputProjection: ax.step(t, from: first).readOnly, stateProjection: ah.from(first).readOnly,
                                     biasIH: biasIH, biasHH: biasHH, state: state.from(first),
                                     output: output.step(t, from: first), record: record?.step(t, from: first))
        }
    }

    static func backward(_ layer: Layer, _ pass: BackwardPass) {
        let hidden = layer.paddedHidden
        let (dOut, record, gates) = (pass.outputGradient, pass.record, pass.inputSideGradients)
        pass.runRecurrentBackward(layer) { t, rows in
            let first = rows.lowerBound
            pass.kernels.lstmBackward(count: rows.count, hidden: hidden, outputGradient: dOut.step(t, from: first).readOnly,
                                      carryH: pass.carryH.from(first).readOnly, carryC: pass.carryC.from(first),
                                      record: record.step(t, from: first).readOnly,
                                      previousRecord: record.step(t - 1, from: first).readOnly,
                                      gateGradient: gates.step(t, from: first))
        }
    }
}

extension ReferenceKernels {
    static func lstmSteps(_ steps: Int, depth: Int, hidden: Int, stateWeights: UnsafePointer<Float>,
                          inputProjections: ConstRows, biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                          stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                          outputs: MutableRows) {
        for t in 0..<steps {
            project(count: 1, depth: depth, width: 4 * hidden, weights: stateWeights, input: one(state), output: one(stateProjection))
            lstmForward(count: 1, hidden: hidden, inputProjection: one(inputProjections[t]),
                        stateProjection: one(stateProjection), biasIH: biasIH, biasHH: biasHH, state: one(state),
                        output: one(outputs[t]), record: nil)
        }
    }

    static func lstmForward(count: Int, hidden: Int, inputProjection: ConstRows, stateProjection: ConstRows,
                            biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                            state: MutableRows, output: MutableRows?, record: MutableRows?) {
        for s in 0..<count {
            let (a, b) = (inputProjection[s], stateProjection[s])
            let h = state[s], c = h + hidden
            for j in 0..<hidden {
                let i = sigmoid(gate(a, b, biasIH, biasHH, j))
                let f = sigmoid(gate(a, b, biasIH, biasHH, hidden + j))
                let g = Approx.tanh(gate(a, b, biasIH, biasHH, 2 * hidden + j))
                let o = sigmoid(gate(a, b, biasIH, biasHH, 3 * hidden + j))
                c[j] = f * c[j] + i * g
                h[j] = o * Approx.tanh(c[j])
                output?[s][j] = h[j]
                if let record {
                    let r = record[s]
                    r[j] = i; r[hidden + j] = f; r[2 * hidden + j] = g; r[3 * hidden + j] = o; r[4 * hidden + j] = c[j]
                }
            }
        }
    }

    static func lstmBackward(count: Int, hidden: Int, outputGradient: ConstRows, carryH: ConstRows, carryC: MutableRows,
                             record: ConstRows, previousRecord: ConstRows, gateGradient: MutableRows) {
        for s in 0..<count {
            let r = record[s], cPrevious = previousRecord[s] + 4 * hidden
            let dg = gateGradient[s], dc = carryC[s]
            for j in 0..<hidden {
                let dh = outputGradient[s][j] + carryH[s][j]
                let (i, f, g, o, c) = (r[j], r[hidden + j], r[2 * hidden + j], r[3 * hidden + j], r[4 * hidden + j])
                let tanhC = Approx.tanh(c)
                let dcTotal = dc[j] + dh * o * (1 - tanhC * tanhC)
                dg[j] = dcTotal * g * i * (1 - i)
                dg[hidden + j] = dcTotal * cPrevious[j] * f * (1 - f)
                dg[2 * hidden + j] = dcTotal * i * (1 - g * g)
                dg[3 * hidden + j] = dh * tanhC * o * (1 - o)
                dc[j] = dcTotal * f
            }
        }
    }
}
