// Elman RNN cell:  h' = act(W_ih x + b_ih + W_hh h + b_hh),  act = tanh | relu.

enum RNNCell {
    /// One step of one stream. `state` holds h and is updated in place;
    /// `scratch` has room for 2·H floats. Records nothing: the backward pass
    /// needs only h', which is the layer's output.
    static func forward(_ layer: Layer, parameters p: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        state h: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let hidden = layer.outputSize
        let (fromInput, fromState) = (scratch, scratch + hidden)
        RecurrentProjection.forward(layer, p, input: x, state: h, fromInput: fromInput, fromState: fromState)
        for j in 0..<hidden { h[j] = fromInput[j] + fromState[j] }
        Kernels.activate(layer.activation, h, count: hidden)
    }

    /// The backward of one step (see `RecurrentBackwardStep`).
    static func backward(_ layer: Layer, parameters p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>?,
                         _ step: RecurrentBackwardStep) {
        let hidden = layer.outputSize
        let preActivation = step.scratch
        let h = step.output
        for j in 0..<hidden {
            let slope: Float = layer.activation == .relu ? (h[j] > 0 ? 1 : 0) : 1 - h[j] * h[j]
            preActivation[j] = step.carry[j] * slope
        }
        RecurrentProjection.backward(layer, p, gradients: g, input: step.input, previous: step.previousH,
                                     inputSide: preActivation, stateSide: preActivation,
                                     inputGradient: step.inputGradient, stateGradient: step.carry)
    }
}
