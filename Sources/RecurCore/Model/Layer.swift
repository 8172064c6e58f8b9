/// The kinds of layer in format v1.
public enum LayerKind: String, Sendable {
    case rnn, lstm, gru, dense

    /// Gate blocks stacked in the weight rows: LSTM i,f,g,o; GRU r,z,n.
    var gateCount: Int {
        switch self {
        case .rnn, .dense: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    var isRecurrent: Bool { self != .dense }
}

/// Element-wise activations (`rnn` takes tanh or relu; `dense` all five).
public enum Activation: String, Sendable {
    case linear, relu, tanh, sigmoid, softmax
}

/// Where one of a layer's tensors lives in the model's parameter buffer: a
/// row-major [rows, columns] view whose rows are `rowStride` floats apart
/// (a vector is one column per row: rows = length, rowStride = 1, columns = 1).
public struct TensorSlot: Sendable {
    /// The tensor's key in the format: `weight_ih`, `bias`, ...
    public let name: String
    /// The shape as written in the format: [rows, columns] or [length].
    public let shape: [Int]
    public let offset: Int
    public let rowStride: Int

    public var count: Int { shape.reduce(1, *) }
    var rows: Int { shape[0] }
    var columns: Int { shape.count == 2 ? shape[1] : 1 }

    /// Parameter-buffer index of element (row, column).
    func index(row: Int, column: Int) -> Int {
        shape.count == 2 ? offset + row * rowStride + column : offset + row
    }
}

/// One layer of a model: its architecture and where its parameters are.
///
/// Recurrent cells keep their input and recurrent weights packed in one
/// matrix, each of the G·H rows being `[W_ih row | W_hh row]`, so a step
/// reads one contiguous block; the format's `weight_ih` and `weight_hh` are
/// strided views of it. Biases follow as plain vectors.
public struct Layer: Sendable {
    public let kind: LayerKind
    public let inputSize: Int
    /// `hidden_size` of a recurrent layer, `units` of a dense one.
    public let outputSize: Int
    public let activation: Activation
    /// The tensors in format order; absent biases are not here.
    public let tensors: [TensorSlot]

    /// Rows of the (packed) weight matrix: G·H, or U for dense.
    var weightRows: Int { kind.gateCount * outputSize }
    /// Floats between weight rows: I + H for recurrent cells, I for dense.
    var rowStride: Int { kind.isRecurrent ? inputSize + outputSize : inputSize }
    /// The packed weight matrix's offset in the parameter buffer.
    var weightOffset: Int { tensors[0].offset }
    /// The offset of `bias_ih` (`bias` for dense), or nil when absent.
    let inputBiasOffset: Int?
    /// The offset of `bias_hh`, or nil when absent (always nil for dense).
    let recurrentBiasOffset: Int?

    /// Floats of this layer's state per stream: h, and c for an LSTM.
    var stateSize: Int {
        switch kind {
        case .dense: return 0
        case .lstm: return 2 * outputSize
        case .rnn, .gru: return outputSize
        }
    }

    /// Scratch floats a step (forward or backward) needs per stream.
    var scratchSize: Int { kind.isRecurrent ? 2 * weightRows + outputSize : outputSize }

    /// Floats a training forward step records per stream for the backward
    /// pass, beyond the layer's output: LSTM i, f, g, o, c; GRU r, z, n and
    /// W_hn h + b_hn; dense the pre-activation values; RNN nothing.
    var recordSize: Int {
        switch kind {
        case .rnn: return 0
        case .lstm: return 5 * outputSize
        case .gru: return 4 * outputSize
        case .dense: return outputSize
        }
    }

    /// Lays out a layer at `offset` in the parameter buffer; returns the
    /// layer and the number of floats it occupies. `biases` says which
    /// biases are present (both, for a layer initialised from `init`).
    static func layout(kind: LayerKind, inputSize: Int, outputSize: Int, activation: Activation,
                       inputBias: Bool, recurrentBias: Bool, at offset: Int) -> (Layer, Int) {
        let rows = kind.gateCount * outputSize
        var tensors: [TensorSlot] = []
        var next = offset
        var inputBiasOffset: Int? = nil
        var recurrentBiasOffset: Int? = nil
        if kind.isRecurrent {
            let stride = inputSize + outputSize
            tensors.append(TensorSlot(name: "weight_ih", shape: [rows, inputSize], offset: next, rowStride: stride))
            tensors.append(TensorSlot(name: "weight_hh", shape: [rows, outputSize], offset: next + inputSize, rowStride: stride))
            next += rows * stride
            if inputBias {
                tensors.append(TensorSlot(name: "bias_ih", shape: [rows], offset: next, rowStride: 1))
                inputBiasOffset = next
                next += rows
            }
            if recurrentBias {
                tensors.append(TensorSlot(name: "bias_hh", shape: [rows], offset: next, rowStride: 1))
                recurrentBiasOffset = next
                next += rows
            }
        } else {
            tensors.append(TensorSlot(name: "weight", shape: [rows, inputSize], offset: next, rowStride: inputSize))
            next += rows * inputSize
            if inputBias {
                tensors.append(TensorSlot(name: "bias", shape: [rows], offset: next, rowStride: 1))
                inputBiasOffset = next
                next += rows
            }
        }
        let layer = Layer(kind: kind, inputSize: inputSize, outputSize: outputSize, activation: activation,
                          tensors: tensors, inputBiasOffset: inputBiasOffset, recurrentBiasOffset: recurrentBiasOffset)
        // Each layer starts on a 64-byte boundary: aligned rows for the kernels.
        let used = next - offset
        return (layer, (used + 15) / 16 * 16)
    }
}
