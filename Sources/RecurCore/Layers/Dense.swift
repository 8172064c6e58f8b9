// Dense layer, applied to every time step on its own:  y = act(W x + b).

enum DenseLayer {
    /// One step of one stream: writes `layer.outputSize` floats to `output`.
    static func forward(_ layer: Layer, parameters p: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        output y: UnsafeMutablePointer<Float>) {
        Kernels.matrixVector(rows: layer.outputSize, columns: layer.inputSize, matrix: p + layer.weightOffset,
                             rowStride: layer.rowStride, vector: x, into: y)
        Kernels.addBias(layer.inputBiasOffset.map { p + $0 }, to: y, count: layer.outputSize)
        Kernels.activate(layer.activation, y, count: layer.outputSize)
    }
}
