// GRU cell, PyTorch's gate order r, z, n (Keras' reset_after=True variant):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h
import Glibc

enum GRUCell {
    /// One step of one stream. `state` holds h, updated in place; `scratch`
    /// has room for 2·3H floats.
    static func forward(_ layer: Layer, parameters p: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        state h: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let hidden = layer.outputSize, rows = layer.weightRows
        let (fromInput, fromState) = (scratch, scratch + rows)
        Kernels.matrixVector(rows: rows, columns: layer.inputSize, matrix: p + layer.weightOffset,
                             rowStride: layer.rowStride, vector: x, into: fromInput)
        Kernels.matrixVector(rows: rows, columns: hidden, matrix: p + layer.weightOffset + layer.inputSize,
                             rowStride: layer.rowStride, vector: h, into: fromState)
        Kernels.addBias(layer.inputBiasOffset.map { p + $0 }, to: fromInput, count: rows)
        Kernels.addBias(layer.recurrentBiasOffset.map { p + $0 }, to: fromState, count: rows)
        for j in 0..<hidden {
            let r = Kernels.sigmoid(fromInput[j] + fromState[j])
            let z = Kernels.sigmoid(fromInput[hidden + j] + fromState[hidden + j])
            let n = tanhf(fromInput[2 * hidden + j] + r * fromState[2 * hidden + j])
            h[j] = (1 - z) * n + z * h[j]
        }
    }
}
