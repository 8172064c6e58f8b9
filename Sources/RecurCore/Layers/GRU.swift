// GRU cell, PyTorch's gate order r, z, n (Keras' reset_after=True variant):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h
import Glibc

enum GRUCell {
    /// One step of one stream. `state` holds h, updated in place; `scratch`
    /// has room for 2·3H floats. With `record`, also writes r, z, n and
    /// W_hn h + b_hn (4H floats) for the backward pass.
    static func forward(_ layer: Layer, parameters p: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        state h: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        record: UnsafeMutablePointer<Float>? = nil) {
        let hidden = layer.outputSize, rows = layer.weightRows
        let (fromInput, fromState) = (scratch, scratch + rows)
        RecurrentProjection.forward(layer, p, input: x, state: h, fromInput: fromInput, fromState: fromState)
        for j in 0..<hidden {
            let r = Kernels.sigmoid(fromInput[j] + fromState[j])
            let z = Kernels.sigmoid(fromInput[hidden + j] + fromState[hidden + j])
            let n = tanhf(fromInput[2 * hidden + j] + r * fromState[2 * hidden + j])
            h[j] = (1 - z) * n + z * h[j]
            if let record {
                record[j] = r; record[hidden + j] = z; record[2 * hidden + j] = n
                record[3 * hidden + j] = fromState[2 * hidden + j]
            }
        }
    }

    /// The backward of one step (see `RecurrentBackwardStep`).
    static func backward(_ layer: Layer, parameters p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>?,
                         _ step: RecurrentBackwardStep) {
        let hidden = layer.outputSize, rows = layer.weightRows
        let record = step.record, hPrev = step.previousH
        let (inputSide, stateSide) = (step.scratch, step.scratch + rows)
        let dh = step.carry
        for j in 0..<hidden {
            let (r, z, n, fromStateN) = (record[j], record[hidden + j], record[2 * hidden + j], record[3 * hidden + j])
            let dn = dh[j] * (1 - z) * (1 - n * n)           // through tanh
            let dz = dh[j] * (hPrev[j] - n) * z * (1 - z)    // through σ
            let dr = dn * fromStateN * r * (1 - r)           // through σ
            inputSide[j] = dr; inputSide[hidden + j] = dz; inputSide[2 * hidden + j] = dn
            stateSide[j] = dr; stateSide[hidden + j] = dz; stateSide[2 * hidden + j] = dn * r
        }
        // dh_prev = W_hh^T (state side) + z * dh: keep the direct path first.
        let direct = step.scratch + 2 * rows
        for j in 0..<hidden { direct[j] = dh[j] * record[hidden + j] }
        RecurrentProjection.backward(layer, p, gradients: g, input: step.input, previous: hPrev,
                                     inputSide: inputSide, stateSide: stateSide,
                                     inputGradient: step.inputGradient, stateGradient: dh)
        for j in 0..<hidden { dh[j] += direct[j] }
    }
}
