// What the three recurrent cells share: the two projections of a step, and
// the way gate gradients flow back into weights, the input and the state.

enum RecurrentProjection {
    /// fromInput = W_ih x + b_ih and fromState = W_hh h + b_hh, each G·H
    /// floats, read from the packed [W_ih | W_hh] rows.
    @inline(__always)
    static func forward(_ layer: Layer, _ p: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        state h: UnsafePointer<Float>, fromInput: UnsafeMutablePointer<Float>,
                        fromState: UnsafeMutablePointer<Float>) {
        let rows = layer.weightRows
        Kernels.matrixVector(rows: rows, columns: layer.inputSize, matrix: p + layer.weightOffset,
                             rowStride: layer.rowStride, vector: x, into: fromInput)
        Kernels.matrixVector(rows: rows, columns: layer.outputSize, matrix: p + layer.weightOffset + layer.inputSize,
                             rowStride: layer.rowStride, vector: h, into: fromState)
        Kernels.addBias(layer.inputBiasOffset.map { p + $0 }, to: fromInput, count: rows)
        Kernels.addBias(layer.recurrentBiasOffset.map { p + $0 }, to: fromState, count: rows)
    }

    /// The backward of `forward`: given dL/d(fromInput) = `inputSide` and
    /// dL/d(fromState) = `stateSide`, adds the weight and bias gradients to
    /// `g` (nil for a frozen layer), writes dL/dx to `inputGradient` (when
    /// wanted) and dL/dh_prev to `stateGradient`.
    @inline(__always)
    static func backward(_ layer: Layer, _ p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>?,
                         input x: UnsafePointer<Float>, previous hPrev: UnsafePointer<Float>,
                         inputSide: UnsafePointer<Float>, stateSide: UnsafePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, stateGradient dhPrev: UnsafeMutablePointer<Float>) {
        let rows = layer.weightRows, stride = layer.rowStride
        if let g {
            Kernels.accumulateOuterProduct(rows: rows, columns: layer.inputSize, into: g + layer.weightOffset,
                                           rowStride: stride, left: inputSide, right: x)
            Kernels.accumulateOuterProduct(rows: rows, columns: layer.outputSize, into: g + layer.weightOffset + layer.inputSize,
                                           rowStride: stride, left: stateSide, right: hPrev)
            if let offset = layer.inputBiasOffset { for r in 0..<rows { g[offset + r] += inputSide[r] } }
            if let offset = layer.recurrentBiasOffset { for r in 0..<rows { g[offset + r] += stateSide[r] } }
        }
        if let dx {
            Kernels.transposedMatrixVector(rows: rows, columns: layer.inputSize, matrix: p + layer.weightOffset,
                                           rowStride: stride, vector: inputSide, into: dx)
        }
        Kernels.transposedMatrixVector(rows: rows, columns: layer.outputSize, matrix: p + layer.weightOffset + layer.inputSize,
                                       rowStride: stride, vector: stateSide, into: dhPrev)
    }
}

/// The pointers one backward step of a recurrent cell works with (one
/// stream, one time step). `carry` holds dL/d(state_t) on entry — the
/// caller has added the gradient from the layer above — and dL/d(state_t-1)
/// on return, in the state layout (h, then c for an LSTM).
struct RecurrentBackwardStep {
    var input: UnsafePointer<Float>            // x_t
    var previousH: UnsafePointer<Float>        // h_t-1
    var previousC: UnsafePointer<Float>?       // c_t-1 (LSTM)
    var output: UnsafePointer<Float>           // h_t
    var record: UnsafePointer<Float>           // what forward recorded at t
    var carry: UnsafeMutablePointer<Float>
    var inputGradient: UnsafeMutablePointer<Float>?   // dL/dx_t, when wanted
    var scratch: UnsafeMutablePointer<Float>   // Layer.scratchSize floats
}
