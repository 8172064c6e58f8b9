// `padding` and `panelWidth` come from RecurKernelInterface (the kernels
// share them).
import RecurKernelInterface

@inline(__always)
func padded(_ size: Int) -> Int { (size + padding - 1) / padding * padding }

/// Where weight (input k, output r) of a [depth inputs, width outputs] block
/// is, in the panel layout: panel r / panelWidth holds, input after input,
/// runs of panelWidth outputs (halfPanelWidth in a last half panel).
@inline(__always)
func panelIndex(input k: Int, output r: Int, depth: Int, width: Int) -> Int {
    let panel = r / panelWidth
    let runLength = min(panelWidth, width - panel * panelWidth)
    return panel * panelWidth * depth + k * runLength + r % panelWidth
}

/// Where one of a layer's tensors lives in the model's parameter buffer.
///
/// Row `row` of a tensor (an output of the layer) sits at padded output
/// `(row / blockRows)·blockStep + row % blockRows`: each gate block starts on
/// a padded boundary. A vector (bias) is stored plainly by padded output; a
/// matrix [outputs, inputs] in the panel layout of a block `width` wide.
public struct TensorSlot: Sendable {
    /// The tensor's key in the format: `weight_ih`, `bias`, ...
    public let name: String
    /// The shape as written in the format: [rows, columns] or [length].
    public let shape: [Int]
    let offset: Int
    /// The padded width of the block (matrices).
    let width: Int
    let blockRows: Int
    let blockStep: Int

    public var count: Int { shape.reduce(1, *) }
    var rows: Int { shape[0] }
    var columns: Int { shape.count == 2 ? shape[1] : 1 }

    /// Parameter-buffer index of element (row, column).
    @inline(__always)
    func index(row: Int, column: Int) -> Int {
        let output = (row / blockRows) * blockStep + row % blockRows
        return shape.count == 1 ? offset + output
            : offset + panelIndex(input: column, output: output, depth: columns, width: width)
    }

    /// Parameter-buffer index of element `i` in row-major order.
    @inline(__always)
    func index(_ i: Int) -> Int { index(row: i / columns, column: i % columns) }

    /// Where row `row` starts and how far apart its columns are: element
    /// (row, c) is at `start + c·step`.
    @inline(__always)
    func rowPlacement(_ row: Int) -> (start: Int, step: Int) {
        let first = index(row: row, column: 0)
        return (first, columns > 1 ? index(row: row, column: 1) - first : 1)
    }

    /// Copies `count` row-major values into the buffer at this slot.
    func store(_ values: UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            let (start, step) = rowPlacement(row)
            let source = values + row * columns
            for column in 0..<columns { buffer[start + column * step] = source[column] }
        }
    }

    /// Copies this slot's values out of the buffer, row-major.
    func load(from buffer: UnsafePointer<Float>, into values: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            let (start, step) = rowPlacement(row)
            let target = values + row * columns
            for column in 0..<columns { target[column] = buffer[start + column * step] }
        }
    }
}

/// One layer of a model: its architecture and where its parameters are.
///
/// Layout in the parameter buffer (all offsets multiples of 16 floats):
///   W_ih     inputSize x width floats, in panels (see `panelIndex`)
///   W_hh     outputSize x width floats, in panels
///   bias_ih  `width` floats, bias_hh `width` floats (when present)
/// where `width` = gates · paddedOutput, each gate block padded to 16. A
/// dense layer has W and bias only. Padding is zero and stays zero.
///
/// A Layer holds only numbers (no array, no reference), so the step path
/// copies it for free; its tensors are derived when asked for.
public struct Layer: Sendable {
    public let kind: LayerKind
    public let inputSize: Int
    /// `hidden_size` of a recurrent layer, `units` of a dense one.
    public let outputSize: Int
    public let activation: Activation

    /// The output size padded to 16: the stride of h, c and gate blocks.
    var paddedOutput: Int { padded(outputSize) }
    /// Floats per row of a weight block: all gates' outputs, padded.
    var width: Int { kind.gateCount * paddedOutput }
    /// Offset of W_ih^T (W^T for dense); W_hh^T follows it.
    let inputWeightOffset: Int
    var recurrentWeightOffset: Int { inputWeightOffset + inputSize * width }
    /// Offsets of `bias_ih` (`bias` for dense) and `bias_hh`, when present.
    let inputBiasOffset: Int?
    let recurrentBiasOffset: Int?
    /// The span of the parameter buffer this layer owns (with padding).
    let parameterRange: Range<Int>

    /// Floats of this layer's state per stream, as get/set show it: h, and c
    /// for an LSTM (the kind's `stateVectors` vectors).
    var stateSize: Int { kind.definition.stateVectors * outputSize }

    /// The same, as the state keeps it (each vector padded).
    var paddedStateSize: Int { kind.definition.stateVectors * paddedOutput }

    /// Floats a training forward step records per position for the backward
    /// pass (the kind's `recordVectors` vectors of paddedOutput floats).
    var recordSize: Int { kind.definition.recordVectors * paddedOutput }

    /// The tensors in format order; absent biases are not here.
    public var tensors: [TensorSlot] {
        Layer.slots(kind: kind, inputSize: inputSize, outputSize: outputSize,
                    inputBias: inputBiasOffset != nil, recurrentBias: recurrentBiasOffset != nil, at: inputWeightOffset).slots
    }

    /// Lays out a layer at `offset` in the parameter buffer; returns the
    /// layer and the number of floats it occupies.
    static func layout(kind: LayerKind, inputSize: Int, outputSize: Int, activation: Activation,
                       inputBias: Bool, recurrentBias: Bool, at offset: Int) -> (Layer, Int) {
        let (slots, end) = Layer.slots(kind: kind, inputSize: inputSize, outputSize: outputSize,
                                       inputBias: inputBias, recurrentBias: recurrentBias, at: offset)
        let biasOffset = { (name: String) in slots.first { $0.name == name }?.offset }
        let layer = Layer(kind: kind, inputSize: inputSize, outputSize: outputSize, activation: activation,
                          inputWeightOffset: offset, inputBiasOffset: biasOffset(kind.isRecurrent ? "bias_ih" : "bias"),
                          recurrentBiasOffset: biasOffset("bias_hh"), parameterRange: offset..<end)
        return (layer, end - offset)
    }

    /// Where each tensor of such a layer goes, from `offset` on, and where the layer ends.
    private static func slots(kind: LayerKind, inputSize: Int, outputSize: Int,
                              inputBias: Bool, recurrentBias: Bool, at offset: Int) -> (slots: [TensorSlot], end: Int) {
        let gateRows = outputSize, gateStep = padded(outputSize)
        let width = kind.gateCount * gateStep
        let rows = kind.gateCount * outputSize
        var tensors: [TensorSlot] = []
        var next = offset
        func matrix(_ name: String, columns: Int) {
            tensors.append(TensorSlot(name: name, shape: [rows, columns], offset: next, width: width,
                                      blockRows: gateRows, blockStep: gateStep))
            next += columns * width
        }
        func vector(_ name: String) {
            tensors.append(TensorSlot(name: name, shape: [rows], offset: next, width: width,
                                      blockRows: gateRows, blockStep: gateStep))
            next += width
        }
        if kind.isRecurrent {
            matrix("weight_ih", columns: inputSize)
            matrix("weight_hh", columns: outputSize)
            if inputBias { vector("bias_ih") }
            if recurrentBias { vector("bias_hh") }
        } else {
            matrix("weight", columns: inputSize)
            if inputBias { vector("bias") }
        }
        return (tensors, next)
    }
}
