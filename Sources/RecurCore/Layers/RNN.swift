// Elman RNN cell:  h' = act(W_ih x + b_ih + W_hh h + b_hh),  act = tanh | relu.

enum RNNCell {
    /// One step of one stream. `state` holds h and is updated in place;
    /// `scratch` has room for 2·H floats.
    static func forward(_ layer: Layer, parameters p: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        state h: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let hidden = layer.outputSize
        let (fromInput, fromState) = (scratch, scratch + hidden)
        Kernels.matrixVector(rows: hidden, columns: layer.inputSize, matrix: p + layer.weightOffset,
                             rowStride: layer.rowStride, vector: x, into: fromInput)
        Kernels.matrixVector(rows: hidden, columns: hidden, matrix: p + layer.weightOffset + layer.inputSize,
                             rowStride: layer.rowStride, vector: h, into: fromState)
        Kernels.addBias(layer.inputBiasOffset.map { p + $0 }, to: fromInput, count: hidden)
        Kernels.addBias(layer.recurrentBiasOffset.map { p + $0 }, to: fromState, count: hidden)
        for j in 0..<hidden { h[j] = fromInput[j] + fromState[j] }
        Kernels.activate(layer.activation, h, count: hidden)
    }
}
