// The `rnn` (Elman) layer kind: its facts, its forward and backward pass,
// and its reference cell (plain loops; FastKernels.rnnForward / rnnBackward
// are the fast ones):
//   h' = act(W_ih x + b_ih + W_hh h + b_hh),  act = tanh | relu.
// The projections W_ih x and W_hh h arrive computed (ax, ah); these are the
// element-wise parts, for `count` streams, `hidden` = H padded to 16.
import RecurKernelInterface

/// The `rnn` kind: 1 gate block; state h; no record (h_t is its output).
enum RNNLayer: LayerDefinition {
    static let gateCount = 1
    static let isRecurrent = true
    static let stateVectors = 1
    static let recordVectors = 0
    static let hasStateSideGradients = false
    static let carriesDirectGradient = false

    static func forward(_ layer: Layer, _ pass: ForwardPass) {
        let hidden = layer.paddedHidden, relu = layer.activation == .relu
        let biasIH = pass.inputBias(layer), biasHH = pass.recurrentBias(layer)
        let (ax, ah, state, output) = (pass.inputProjections, pass.stateProjections, pass.state, pass.output)
        pass.runRecurrent(layer, fusedSteps: { steps, stream, weights in
            pass.kernels.rnnSteps(steps.count, depth: layer.hiddenSize, hidden: hidden, relu: relu, stateWeights: weights,
                                  inputProjections: ax.steps(of: stream).from(steps.lowerBound).readOnly, biasIH: biasIH, biasHH: biasHH,
                                  stateProjection: ah[stream], state: state[stream], outputs: output.steps(of: stream).from(steps.lowerBound))
        }) { t, rows in
            let first = rows.lowerBound
            pass.kernels.rnnForward(count: rows.count, hidden: hidden, relu: relu,
                                    inputProjection: ax.step(t, from: first).readOnly, stateProjection: ah.from(first).readOnly,
                                    biasIH: biasIH, biasHH: biasHH, state: state.from(first), output: output.step(t, from: first))
        }
    }

    static func backward(_ layer: Layer, _ pass: BackwardPass) {
        let hidden = layer.paddedHidden, relu = layer.activation == .relu
        let (dOut, output, gates) = (pass.outputGradient, pass.output, pass.inputSideGradients)
        pass.runRecurrentBackward(layer) { t, rows in
            let first = rows.lowerBound
            pass.kernels.rnnBackward(count: rows.count, hidden: hidden, relu: relu,
                                     outputGradient: dOut.step(t, from: first).readOnly, carryH: pass.carryH.from(first).readOnly,
                                     output: output.step(t, from: first).readOnly, gateGradient: gates.step(t, from: first))
        }
    }
}

extension ReferenceKernels {
    static func rnnSteps(_ steps: Int, depth: Int, hidden: Int, relu: Bool, stateWeights: UnsafePointer<Float>,
                         inputProjections: ConstRows, biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                         stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                         outputs: MutableRows) {
        for t in 0..<steps {
            project(count: 1, depth: depth, width: hidden, weights: stateWeights, input: one(state), output: one(stateProjection))
            rnnForward(count: 1, hidden: hidden, relu: relu, inputProjection: one(inputProjections[t]),
                       stateProjection: one(stateProjection), biasIH: biasIH, biasHH: biasHH, state: one(state),
                       output: one(outputs[t]))
        }
    }

    static func rnnForward(count: Int, hidden: Int, relu: Bool, inputProjection: ConstRows, stateProjection: ConstRows,
                           biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                           state: MutableRows, output: MutableRows?) {
        for s in 0..<count {
            for j in 0..<hidden {
                let pre = gate(inputProjection[s], stateProjection[s], biasIH, biasHH, j)
                let h = relu ? (pre < 0 ? 0 : pre) : Approx.tanh(pre)
                state[s][j] = h
                output?[s][j] = h
            }
        }
    }

    static func rnnBackward(count: Int, hidden: Int, relu: Bool, outputGradient: ConstRows, carryH: ConstRows,
                            output: ConstRows, gateGradient: MutableRows) {
        for s in 0..<count {
            for j in 0..<hidden {
                let dh = outputGradient[s][j] + carryH[s][j]
                let y = output[s][j]
                let slope: Float = relu ? (y <= 0 ? 0 : 1) : 1 - y * y
                gateGradient[s][j] = dh * slope
            }
        }
    }
}
