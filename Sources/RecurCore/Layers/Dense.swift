// Dense layer, applied to every time step on its own:  y = act(W x + b).

enum DenseLayer {
    /// One step of one stream: writes `layer.outputSize` floats to `output`.
    /// With `record`, also keeps the pre-activation values W x + b (the
    /// logits of a classification head) for the backward pass.
    static func forward(_ layer: Layer, parameters p: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        output y: UnsafeMutablePointer<Float>, record: UnsafeMutablePointer<Float>? = nil) {
        Kernels.matrixVector(rows: layer.outputSize, columns: layer.inputSize, matrix: p + layer.weightOffset,
                             rowStride: layer.rowStride, vector: x, into: y)
        Kernels.addBias(layer.inputBiasOffset.map { p + $0 }, to: y, count: layer.outputSize)
        record?.update(from: y, count: layer.outputSize)
        Kernels.activate(layer.activation, y, count: layer.outputSize)
    }

    /// The backward of one step. `outputGradient` is dL/dy, or dL/d(W x + b)
    /// when `throughActivation` is false (a loss on logits). Adds the weight
    /// and bias gradients to `g` (nil when frozen) and writes dL/dx to
    /// `inputGradient` when wanted. `scratch` has room for U floats.
    static func backward(_ layer: Layer, parameters p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>?,
                         input x: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                         outputGradient dy: UnsafePointer<Float>, throughActivation: Bool,
                         inputGradient dx: UnsafeMutablePointer<Float>?, scratch dz: UnsafeMutablePointer<Float>) {
        let units = layer.outputSize
        switch throughActivation ? layer.activation : .linear {
        case .linear:
            dz.update(from: dy, count: units)
        case .relu:
            for k in 0..<units { dz[k] = y[k] > 0 ? dy[k] : 0 }
        case .tanh:
            for k in 0..<units { dz[k] = dy[k] * (1 - y[k] * y[k]) }
        case .sigmoid:
            for k in 0..<units { dz[k] = dy[k] * y[k] * (1 - y[k]) }
        case .softmax:
            var dot: Float = 0
            for k in 0..<units { dot += dy[k] * y[k] }
            for k in 0..<units { dz[k] = y[k] * (dy[k] - dot) }
        }
        if let g {
            Kernels.accumulateOuterProduct(rows: units, columns: layer.inputSize, into: g + layer.weightOffset,
                                           rowStride: layer.rowStride, left: dz, right: x)
            if let offset = layer.inputBiasOffset { for k in 0..<units { g[offset + k] += dz[k] } }
        }
        if let dx {
            Kernels.transposedMatrixVector(rows: units, columns: layer.inputSize, matrix: p + layer.weightOffset,
                                           rowStride: layer.rowStride, vector: dz, into: dx)
        }
    }
}
