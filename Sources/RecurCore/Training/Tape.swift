// The tape of a training step: what the forward pass records for the
// backward pass, and the room both passes work in.
import RecurKernelInterface

/// Everything one training step of a given batch and length records and
/// works in: allocated when the trainer first sees that size, then reused.
/// Per-position buffers of a layer have `steps + 1` slots per stream: slot 0
/// holds the initial state, slot t + 1 step t.
final class Tape {
    let model: Model
    let kernels: KernelSet
    let batch: Int
    let steps: Int
    /// Per layer: [batch][steps + 1][paddedOutput]; slot 0 = initial h.
    let outputs: [FloatBuffer]
    /// Per layer: [batch][steps + 1][recordSize]; an LSTM's slot 0 holds the
    /// initial c. A bidirectional layer's cells keep theirs in `bidirectional`.
    let records: [FloatBuffer]
    /// Per layer: the cells' room of a bidirectional layer (nil for others).
    let bidirectional: [BidirectionalBuffers?]
    /// Per layer: dL/d(output), [batch][steps][paddedOutput].
    let outputGradients: [FloatBuffer]
    /// Each stream's state while the forward pass runs: initial, then final.
    let state: FloatBuffer
    /// W_ih x of every position, [batch][steps][width], and W_hh h of every stream.
    let inputProjections: FloatBuffer
    let stateProjections: FloatBuffer
    /// Pre-activation gradients of every position, [batch][steps][width]; a
    /// kind with state-side gradients (GRU) has its own buffer for those.
    let gateGradients: FloatBuffer
    let stateGateGradients: FloatBuffer
    /// dL/dh and dL/dc flowing back in time, [batch][paddedOutput].
    let carryH: FloatBuffer
    let carryC: FloatBuffer
    /// Room for W_hh^T's part of the carry when the cell leaves a direct part there.
    let carryTemporary: FloatBuffer
    /// Room for one position's exponentials in the loss (padded output size).
    let lossScratch: FloatBuffer
    /// Per-stream strides of the buffers above that all layers share: the
    /// widest layer's, so threads on different layers never share a row.
    let widest: Int
    let widestOutput: Int
    /// Each stream's steps in the current training step, when streams have
    /// different lengths (set by the trainer for the step; nil: all steps).
    var lengths: UnsafePointer<Int>? = nil

    init(model: Model, kernels: KernelSet, batch: Int, steps: Int) throws(RecurError) {
        self.model = model
        self.kernels = kernels
        self.batch = batch
        self.steps = steps
        var outputs: [FloatBuffer] = [], records: [FloatBuffer] = [], gradients: [FloatBuffer] = []
        var bidirectional: [BidirectionalBuffers?] = []
        for layer in model.layers {
            outputs.append(try FloatBuffer(count: batch * (steps + 1) * layer.paddedOutput))
            records.append(try FloatBuffer(count: layer.isBidirectional ? 0 : batch * (steps + 1) * layer.recordSize))
            gradients.append(try FloatBuffer(count: batch * steps * layer.paddedOutput))
            bidirectional.append(layer.isBidirectional
                ? try BidirectionalBuffers(layer: layer, batch: batch, steps: steps, training: true) : nil)
        }
        self.outputs = outputs
        self.bidirectional = bidirectional
        self.records = records
        self.outputGradients = gradients
        widest = model.layers.map(\.width).max() ?? 0
        widestOutput = model.layers.map(\.paddedHidden).max() ?? 0
        let stateSide = model.layers.contains { $0.kind.definition.hasStateSideGradients }
        let direct = model.layers.contains { $0.kind.definition.carriesDirectGradient }
        state = try FloatBuffer(count: batch * model.paddedStateSize)
        inputProjections = try FloatBuffer(count: batch * steps * widest)
        stateProjections = try FloatBuffer(count: batch * widest)
        gateGradients = try FloatBuffer(count: batch * steps * widest)
        stateGateGradients = try FloatBuffer(count: stateSide ? batch * steps * widest : 0)
        carryH = try FloatBuffer(count: batch * widestOutput)
        carryC = try FloatBuffer(count: batch * widestOutput)
        carryTemporary = try FloatBuffer(count: direct ? batch * widestOutput : 0)
        lossScratch = try FloatBuffer(count: padded(model.outputSize))
    }

    // MARK: Views

    /// Layer `index`'s outputs, step t at slot t + 1 (slot 0, one step
    /// before, holds the initial h).
    func output(_ index: Int) -> Sequences {
        let width = model.layers[index].paddedOutput
        return Sequences(base: outputs[index].base + width, streamStride: (steps + 1) * width, stepStride: width)
    }

    /// Layer `index`'s records, step t at slot t + 1.
    func record(_ index: Int) -> Sequences {
        let size = model.layers[index].recordSize
        return Sequences(base: records[index].base + size, streamStride: (steps + 1) * size, stepStride: size)
    }

    /// dL/d(output of layer `index`) at every step.
    func outputGradient(_ index: Int) -> Sequences {
        let width = model.layers[index].paddedOutput
        return Sequences(base: outputGradients[index].base, streamStride: steps * width, stepStride: width)
    }

    /// Gate gradients of layer `index`: input side, and state side (the
    /// same buffer unless the kind has state-side gradients).
    func gateGradients(_ index: Int, stateSide: Bool) -> Sequences {
        let own = stateSide && model.layers[index].kind.definition.hasStateSideGradients
        return Sequences(base: (own ? stateGateGradients : gateGradients).base, streamStride: steps * widest,
                         stepStride: model.layers[index].width)
    }

    /// Layer `index`'s input: the model's input, or the layer below's outputs.
    func layerInput(_ index: Int, _ x: UnsafePointer<Float>) -> Sequences {
        if index == 0 {
            return Sequences(base: UnsafeMutablePointer(mutating: x), streamStride: steps * model.inputSize,
                             stepStride: model.inputSize)
        }
        return output(index - 1)
    }
}

extension Tape: ForwardBufferPlan {
    func forwardPass(layer index: Int, input x: UnsafePointer<Float>, inputStreamStride: Int,
                     streams: Range<Int>, steps: Int) -> ForwardPass {
        ForwardPass(kernels: kernels.level, weights: UnsafePointer(model.parameters.base), halfWeights: nil,
                    streams: streams, steps: steps, lengths: lengths,
                    input: layerInput(index, x), output: output(index), record: record(index), keepsInitialState: true,
                    inputProjections: Sequences(base: inputProjections.base, streamStride: steps * widest,
                                                stepStride: model.layers[index].width),
                    stateProjections: MutableRows(base: stateProjections.base, stride: widest),
                    state: MutableRows(base: state.base + model.paddedStateOffsets[index], stride: model.paddedStateSize),
                    bidirectional: bidirectional[index]?.roomPointer)
    }
}
