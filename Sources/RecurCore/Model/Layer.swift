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

/// Which way a recurrent layer runs through time (format key `direction`).
public enum Direction: String, Sendable {
    /// From the first step to the last, carrying its state between calls.
    case forward
    /// Two cells over the same input, one each way, each from zero state;
    /// the output at step t is [forward h_t, reverse h_t] (2H values).
    case bidirectional
}

/// One layer of a model: its architecture and where its parameters are.
///
/// Layout in the parameter buffer (all offsets multiples of 16 floats):
///   W_ih     inputSize x width floats, in panels (see `panelIndex`)
///   W_hh     hiddenSize x width floats, in panels
///   bias_ih  `width` floats, bias_hh `width` floats (when present)
/// where `width` = gates · paddedHidden, each gate block padded to 16. A
/// dense layer has W and bias only. Padding is zero and stays zero. A
/// bidirectional layer has a second such block, the `_reverse` tensors,
/// right after the first: its reverse cell is the same layout shifted by
/// `reverseOffset` (see `cell(_:)`).
///
/// A Layer holds only numbers (no array, no reference), so the step path
/// copies it for free; its tensors are derived when asked for.
public struct Layer: Sendable {
    public let kind: LayerKind
    public let inputSize: Int
    /// `hidden_size` of a recurrent layer (each direction's), `units` of a dense one.
    public let hiddenSize: Int
    public let activation: Activation
    public let direction: Direction
    /// Values per step going out: hiddenSize, twice that when bidirectional.
    public var outputSize: Int { isBidirectional ? 2 * hiddenSize : hiddenSize }
    public var isBidirectional: Bool { direction == .bidirectional }

    /// The hidden size padded to 16: the stride of h, c and gate blocks.
    var paddedHidden: Int { padded(hiddenSize) }
    /// The output size padded to 16: the stride of the layer's outputs.
    var paddedOutput: Int { padded(outputSize) }
    /// Floats per row of a weight block: all gates' outputs, padded. Stored:
    /// the step path reads it, and a kind's gate count is behind a protocol.
    let width: Int
    /// Offset of W_ih^T (W^T for dense); W_hh^T follows it.
    let inputWeightOffset: Int
    var recurrentWeightOffset: Int { inputWeightOffset + inputSize * width }
    /// Offsets of `bias_ih` (`bias` for dense) and `bias_hh`, when present.
    let inputBiasOffset: Int?
    let recurrentBiasOffset: Int?
    /// How far the reverse cell's block is after the forward one (0 for a
    /// forward layer).
    let reverseOffset: Int
    /// The span of the parameter buffer this layer owns (with padding).
    let parameterRange: Range<Int>

    /// Vectors of paddedHidden floats the layer keeps per stream between
    /// calls: the kind's (h, and c for an LSTM); none when bidirectional.
    var stateVectors: Int { isBidirectional ? 0 : kind.definition.stateVectors }

    /// Floats of this layer's state per stream, as get/set show it.
    var stateSize: Int { stateVectors * hiddenSize }

    /// The same, as the state keeps it (each vector padded).
    var paddedStateSize: Int { stateVectors * paddedHidden }

    /// Floats a training forward step records per position for the backward
    /// pass (the kind's `recordVectors` vectors of paddedHidden floats), per cell.
    var recordSize: Int { kind.definition.recordVectors * paddedHidden }

    /// The cells of this layer, one per direction (`cell(d)` for d in this range).
    var cells: Range<Int> { 0..<(isBidirectional ? 2 : 1) }

    /// Cell `index` (0: forward, 1: reverse) as a forward layer of its own
    /// over the same input: what the kind's passes (Layers/) run. The
    /// forward cell of a forward layer is the layer itself.
    func cell(_ index: Int) -> Layer {
        guard isBidirectional else { return self }
        let shift = index * reverseOffset
        return Layer(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize, activation: activation, direction: .forward, width: width,
                     inputWeightOffset: inputWeightOffset + shift, inputBiasOffset: inputBiasOffset.map { $0 + shift },
                     recurrentBiasOffset: recurrentBiasOffset.map { $0 + shift }, reverseOffset: 0,
                     parameterRange: (parameterRange.lowerBound + shift)..<(parameterRange.lowerBound + shift + reverseOffset))
    }

    /// The tensors in format order (the reverse cell's after the forward
    /// one's); absent biases are not here.
    public var tensors: [TensorSlot] {
        var slots = Layer.slots(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize,
                                inputBias: inputBiasOffset != nil, recurrentBias: recurrentBiasOffset != nil,
                                suffix: "", at: inputWeightOffset).slots
        if isBidirectional {
            slots += Layer.slots(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize,
                                 inputBias: inputBiasOffset != nil, recurrentBias: recurrentBiasOffset != nil,
                                 suffix: "_reverse", at: inputWeightOffset + reverseOffset).slots
        }
        return slots
    }

    /// Lays out a layer at `offset` in the parameter buffer; returns the
    /// layer and the number of floats it occupies.
    static func layout(kind: LayerKind, inputSize: Int, hiddenSize: Int, activation: Activation, direction: Direction = .forward,
                       inputBias: Bool, recurrentBias: Bool, at offset: Int) -> (Layer, Int) {
        let (slots, end) = Layer.slots(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize,
                                       inputBias: inputBias, recurrentBias: recurrentBias, suffix: "", at: offset)
        let cellSpan = end - offset
        let span = direction == .bidirectional ? 2 * cellSpan : cellSpan
        let biasOffset = { (name: String) in slots.first { $0.name == name }?.offset }
        let layer = Layer(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize, activation: activation, direction: direction,
                          width: kind.gateCount * padded(hiddenSize),
                          inputWeightOffset: offset, inputBiasOffset: biasOffset(kind.isRecurrent ? "bias_ih" : "bias"),
                          recurrentBiasOffset: biasOffset("bias_hh"),
                          reverseOffset: direction == .bidirectional ? cellSpan : 0, parameterRange: offset..<(offset + span))
        return (layer, span)
    }

    /// Where each tensor of one cell goes, from `offset` on, and where the cell ends.
    private static func slots(kind: LayerKind, inputSize: Int, hiddenSize: Int, inputBias: Bool, recurrentBias: Bool,
                              suffix: String, at offset: Int) -> (slots: [TensorSlot], end: Int) {
        let gateRows = hiddenSize, gateStep = padded(hiddenSize)
        let width = kind.gateCount * gateStep
        let rows = kind.gateCount * hiddenSize
        var tensors: [TensorSlot] = []
        var next = offset
        func matrix(_ name: String, columns: Int) {
            tensors.append(TensorSlot(name: name + suffix, shape: [rows, columns], offset: next, width: width,
                                      blockRows: gateRows, blockStep: gateStep))
            next += columns * width
        }
        func vector(_ name: String) {
            tensors.append(TensorSlot(name: name + suffix, shape: [rows], offset: next, width: width,
                                      blockRows: gateRows, blockStep: gateStep))
            next += width
        }
        if kind.isRecurrent {
            matrix("weight_ih", columns: inputSize)
            matrix("weight_hh", columns: hiddenSize)
            if inputBias { vector("bias_ih") }
            if recurrentBias { vector("bias_hh") }
        } else {
            matrix("weight", columns: inputSize)
            if inputBias { vector("bias") }
        }
        return (tensors, next)
    }
}
