// LSTM cell, PyTorch's gate order i, f, g, o:
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(...)     g = tanh(...)     o = σ(...)
//   c' = f * c + i * g                       h' = o * tanh(c')
import Glibc

enum LSTMCell {
    /// One step of one stream. `state` holds h then c, updated in place;
    /// `scratch` has room for 2·4H floats.
    static func forward(_ layer: Layer, parameters p: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        state: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let hidden = layer.outputSize, rows = layer.weightRows
        let (h, c) = (state, state + hidden)
        let (gates, fromState) = (scratch, scratch + rows)
        Kernels.matrixVector(rows: rows, columns: layer.inputSize, matrix: p + layer.weightOffset,
                             rowStride: layer.rowStride, vector: x, into: gates)
        Kernels.matrixVector(rows: rows, columns: hidden, matrix: p + layer.weightOffset + layer.inputSize,
                             rowStride: layer.rowStride, vector: h, into: fromState)
        Kernels.addBias(layer.inputBiasOffset.map { p + $0 }, to: gates, count: rows)
        Kernels.addBias(layer.recurrentBiasOffset.map { p + $0 }, to: fromState, count: rows)
        for j in 0..<hidden {
            let i = Kernels.sigmoid(gates[j] + fromState[j])
            let f = Kernels.sigmoid(gates[hidden + j] + fromState[hidden + j])
            let g = tanhf(gates[2 * hidden + j] + fromState[2 * hidden + j])
            let o = Kernels.sigmoid(gates[3 * hidden + j] + fromState[3 * hidden + j])
            c[j] = f * c[j] + i * g
            h[j] = o * tanhf(c[j])
        }
    }
}
