// LSTM cell, PyTorch's gate order i, f, g, o:
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(...)     g = tanh(...)     o = σ(...)
//   c' = f * c + i * g                       h' = o * tanh(c')
import Glibc

enum LSTMCell {
    /// One step of one stream. `state` holds h then c, updated in place;
    /// `scratch` has room for 2·4H floats. With `record`, also writes
    /// i, f, g, o, c' (5H floats) for the backward pass.
    static func forward(_ layer: Layer, parameters p: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        state: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        record: UnsafeMutablePointer<Float>? = nil) {
        let hidden = layer.outputSize, rows = layer.weightRows
        let (h, c) = (state, state + hidden)
        let (gates, fromState) = (scratch, scratch + rows)
        RecurrentProjection.forward(layer, p, input: x, state: h, fromInput: gates, fromState: fromState)
        for j in 0..<hidden {
            let i = Kernels.sigmoid(gates[j] + fromState[j])
            let f = Kernels.sigmoid(gates[hidden + j] + fromState[hidden + j])
            let g = tanhf(gates[2 * hidden + j] + fromState[2 * hidden + j])
            let o = Kernels.sigmoid(gates[3 * hidden + j] + fromState[3 * hidden + j])
            c[j] = f * c[j] + i * g
            h[j] = o * tanhf(c[j])
            if let record {
                record[j] = i; record[hidden + j] = f; record[2 * hidden + j] = g
                record[3 * hidden + j] = o; record[4 * hidden + j] = c[j]
            }
        }
    }

    /// The backward of one step (see `RecurrentBackwardStep`); `carry` is
    /// (dh, dc).
    static func backward(_ layer: Layer, parameters p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>?,
                         _ step: RecurrentBackwardStep) {
        let hidden = layer.outputSize
        let r = step.record
        let dGates = step.scratch
        let (dh, dc) = (step.carry, step.carry + hidden)
        for j in 0..<hidden {
            let (i, f, gate, o, c) = (r[j], r[hidden + j], r[2 * hidden + j], r[3 * hidden + j], r[4 * hidden + j])
            let tanhC = tanhf(c)
            let dcTotal = dc[j] + dh[j] * o * (1 - tanhC * tanhC)
            let cPrev = step.previousC?[j] ?? 0
            dGates[j] = dcTotal * gate * i * (1 - i)
            dGates[hidden + j] = dcTotal * cPrev * f * (1 - f)
            dGates[2 * hidden + j] = dcTotal * i * (1 - gate * gate)
            dGates[3 * hidden + j] = dh[j] * tanhC * o * (1 - o)
            dc[j] = dcTotal * f
        }
        RecurrentProjection.backward(layer, p, gradients: g, input: step.input, previous: step.previousH,
                                     inputSide: dGates, stateSide: dGates,
                                     inputGradient: step.inputGradient, stateGradient: dh)
    }
}
