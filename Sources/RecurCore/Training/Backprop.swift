// Backpropagation through the stack and through time: from dL/d(output of
// the last layer), layer by layer from the head down to the lowest layer
// that trains, each layer's kind (Layers/) computing its gate gradients step
// by step from the last; then each layer's weight gradients and, for the
// layer below, the gradient of its input.
import RecurKernelInterface

/// What one layer's backward pass reads and writes, for the streams
/// `streams`. Sequences are at stream 0, step 0 (the tape's slot 1).
struct BackwardPass {
    let kernels: any Kernels.Type
    let streams: Range<Int>
    let steps: Int
    /// Per stream, how many steps it ran (nil: all): the backward pass
    /// starts at each stream's own last step.
    let lengths: UnsafePointer<Int>?
    /// dL/d(this layer's output) at every step, from the layer above or the loss.
    let outputGradient: Sequences
    /// The forward pass's outputs (h_t); one step before step 0, the initial h.
    let output: Sequences
    /// The forward pass's records; one step before step 0, an LSTM's initial c.
    let record: Sequences
    /// Gate gradients written for every step: the input side, and the
    /// state side (the same buffer unless the kind has state-side gradients).
    let inputSideGradients: Sequences
    let stateSideGradients: Sequences
    /// dL/dh and dL/dc flowing back in time, and room for W_hh^T's part.
    let carryH: MutableRows
    let carryC: MutableRows
    let carryTemporary: MutableRows
    /// W_hh^T in the panel layout (recurrent layers).
    let recurrentTransposed: UnsafePointer<Float>
    /// Diagnostics, when asked for: |dL/dh_t|^2 of each (stream, step), [batch][steps].
    let hiddenGradientSquares: UnsafeMutablePointer<Float>?
    /// Whether a dense layer's gradient goes through its activation (false
    /// for the head when the loss is computed on its logits).
    let throughActivation: Bool

    var first: Int { streams.lowerBound }
    var count: Int { streams.count }

    /// How many steps stream `stream` ran.
    @inline(__always) func steps(of stream: Int) -> Int { RecurCore.steps(of: stream, steps, lengths: lengths) }

    /// The common shape of a recurrent layer's backward pass: from the last
    /// step to the first, `cell(t, rows)` turns dL/dh_t (output gradient +
    /// carry) into gate gradients for the streams `rows` that ran step t,
    /// then W_hh^T carries the state side back to dL/dh_t-1 (added to a
    /// direct part the cell left, for a GRU).
    @inline(__always)
    func runRecurrentBackward(_ layer: Layer, cell: (_ t: Int, _ rows: Range<Int>) -> Void) {
        let carryStride = carryH.stride
        carryH[first].update(repeating: 0, count: count * carryStride)
        carryC[first].update(repeating: 0, count: count * carryStride)
        let direct = layer.kind.definition.carriesDirectGradient
        for t in stride(from: steps - 1, through: 0, by: -1) {
            runs(of: streams, at: t, lengths: lengths) { rows in
                if let squares = hiddenGradientSquares { recordHiddenGradient(layer, t, rows, into: squares) }
                cell(t, rows)
                // dL/dh_t-1 from the state side, as a forward product over
                // the transposed weights (the fast, batched kernel).
                let first = rows.lowerBound, count = rows.count
                let gh = stateSideGradients.step(t, from: first).readOnly
                if direct {
                    let temporary = carryTemporary[first]
                    kernels.project(count: count, depth: layer.width, width: layer.paddedHidden, weights: recurrentTransposed,
                                    input: gh, output: carryTemporary.from(first))
                    let carry = carryH[first]
                    for s in 0..<count {
                        for j in 0..<layer.paddedHidden { carry[s * carryStride + j] += temporary[s * carryStride + j] }
                    }
                } else {
                    kernels.project(count: count, depth: layer.width, width: layer.paddedHidden, weights: recurrentTransposed,
                                    input: gh, output: carryH.from(first))
                }
            }
        }
    }

    /// |dL/dh_t|^2 of each stream of `rows` at step t (before the cell consumes it).
    private func recordHiddenGradient(_ layer: Layer, _ t: Int, _ rows: Range<Int>, into squares: UnsafeMutablePointer<Float>) {
        for stream in rows {
            let dOut = outputGradient.at(stream: stream, step: t), carry = carryH[stream]
            var sum: Float = 0
            for j in 0..<layer.hiddenSize {
                let g = dOut[j] + carry[j]
                sum += g * g
            }
            squares[stream * steps + t] = sum
        }
    }
}

/// The backward pass of a trainer: its transposed weight copies and the
/// loop over the layers.
final class Backprop {
    let model: Model
    let kernels: any Kernels.Type
    /// The lowest layer that trains (nil: every layer is frozen); below it
    /// no gradient is needed.
    let lowest: Int?
    let frozenLayers: Set<Int>
    /// Transposed copies of the weights the backward pass multiplies by
    /// (W_ih and W_hh with inputs and outputs swapped, in the panel layout),
    /// refreshed from the weights at each step.
    private let transposed: FloatBuffer
    /// Per layer, per cell (two for a bidirectional layer): where its W_ih^T
    /// and W_hh^T are in `transposed`.
    private let transposedOffsets: [[(input: Int, recurrent: Int)]]

    init(model: Model, kernels: KernelSet, frozenLayers: Set<Int>) throws(RecurError) {
        self.model = model
        self.kernels = kernels.level
        self.frozenLayers = frozenLayers
        lowest = model.layers.indices.first { !frozenLayers.contains($0) }
        var offsets: [[(input: Int, recurrent: Int)]] = []
        var total = 0
        for layer in model.layers {
            var cells: [(input: Int, recurrent: Int)] = []
            for _ in layer.cells {
                let input = total
                total += layer.width * padded(layer.inputSize)
                let recurrent = total
                if layer.kind.isRecurrent { total += layer.width * layer.paddedHidden }
                cells.append((input, recurrent))
            }
            offsets.append(cells)
        }
        transposed = try FloatBuffer(count: total)
        transposedOffsets = offsets
    }

    /// dL/d(parameters) into `gradients` (zeroed first) from the output
    /// gradient of the last layer on the tape. Streams are split over the
    /// pool for the passes through time, output columns for the weight
    /// gradients: each gradient element is summed over the streams in order
    /// by one thread, so the bits do not depend on the thread count.
    func run(_ x: UnsafePointer<Float>, _ tape: Tape, throughHeadActivation: Bool, pool: WorkerPool?,
             diagnostics: HiddenGradientNorms?, into gradients: FloatBuffer) {
        gradients.zero()
        guard let lowest else { return }
        refreshTransposed(from: lowest)
        let batch = tape.batch
        for index in stride(from: model.layers.count - 1, through: lowest, by: -1) {
            let trains = !frozenLayers.contains(index)
            let head = index == model.layers.count - 1
            let squares = diagnostics?.squares(layer: index, batch: batch, steps: tape.steps)
            if model.layers[index].kind.isRecurrent {
                squares?.update(repeating: 0, count: batch * tape.steps)   // positions past a length stay 0
            }
            // One pass per cell (a bidirectional layer's forward cell, then
            // its reverse one): through time, then its weight gradients.
            for cell in model.layers[index].cells {
                if let pool {
                    let parts = pool.count
                    pool.run { part in
                        self.throughTime(index, cell: cell, tape, streams: WorkerPool.split(batch, parts, part),
                                         throughActivation: !head || throughHeadActivation, squares: squares)
                    }
                    if trains {
                        pool.run { part in self.accumulateGradients(index, cell: cell, x, tape, into: gradients, part: part, of: parts) }
                    }
                } else {
                    throughTime(index, cell: cell, tape, streams: 0..<batch, throughActivation: !head || throughHeadActivation,
                                squares: squares)
                    if trains { accumulateGradients(index, cell: cell, x, tape, into: gradients, part: 0, of: 1) }
                }
            }
        }
    }

    /// Cell `cell` of layer `index`: its gate gradients (into the tape) and,
    /// above the lowest trainable layer, its part of the gradient of the
    /// layer's input, for some streams. A bidirectional layer's cells work
    /// in their room, the reverse cell in its own (reversed) time order.
    private func throughTime(_ index: Int, cell: Int, _ tape: Tape, streams: Range<Int>, throughActivation: Bool,
                             squares: UnsafeMutablePointer<Float>?) {
        guard !streams.isEmpty, let lowest else { return }
        let whole = model.layers[index], layer = whole.cell(cell), carryStride = tape.widestOutput
        let room = tape.bidirectional[index]?.room, own = room?.cell(cell)
        if let room, cell == 0 {
            Bidirectional.splitOutputGradient(whole, tape.outputGradient(index), room, streams: streams,
                                              lengths: tape.lengths, steps: tape.steps)
        }
        let pass = BackwardPass(
            kernels: kernels, streams: streams, steps: tape.steps, lengths: tape.lengths,
            outputGradient: own?.outputGradient ?? tape.outputGradient(index), output: own?.output ?? tape.output(index),
            record: own?.record ?? tape.record(index),
            inputSideGradients: tape.gateGradients(index, stateSide: false),
            stateSideGradients: tape.gateGradients(index, stateSide: true),
            carryH: MutableRows(base: tape.carryH.base, stride: carryStride),
            carryC: MutableRows(base: tape.carryC.base, stride: carryStride),
            carryTemporary: MutableRows(base: tape.carryTemporary.base, stride: carryStride),
            recurrentTransposed: UnsafePointer(transposed.base + transposedOffsets[index][cell].recurrent),
            hiddenGradientSquares: cell == 1 && squares != nil ? room?.reverseSquares : squares,
            throughActivation: throughActivation)
        layer.kind.definition.backward(layer, pass)
        if cell == 1, let squares, let reverseSquares = room?.reverseSquares {
            // The reverse cell's |dL/dh|^2, back in the layer's time order.
            for stream in streams {
                let steps = pass.steps(of: stream), row = stream * tape.steps
                for t in 0..<steps { squares[row + t] += reverseSquares[row + steps - 1 - t] }
            }
        }

        // dL/d(input) = W_ih^T (input side), for the layer below; the
        // reverse cell's part is added back in the layer's time order.
        if index > lowest {
            let gates = pass.inputSideGradients, below = tape.outputGradient(index - 1)
            let inputT = UnsafePointer(transposed.base + transposedOffsets[index][cell].input)
            for stream in streams where pass.steps(of: stream) > 0 {
                let steps = pass.steps(of: stream)
                if cell == 0 {
                    kernels.project(count: steps, depth: layer.width, width: below.stepStride, weights: inputT,
                                    input: gates.steps(of: stream).readOnly, output: below.steps(of: stream))
                } else if let reversed = room?.reversedInputGradient {
                    kernels.project(count: steps, depth: layer.width, width: below.stepStride, weights: inputT,
                                    input: gates.steps(of: stream).readOnly, output: reversed.steps(of: stream))
                    for t in 0..<steps {
                        let target = below.at(stream: stream, step: t), source = reversed.at(stream: stream, step: steps - 1 - t)
                        for j in 0..<below.stepStride { target[j] += source[j] }
                    }
                }
            }
        }
    }

    /// Layer `index`'s weight and bias gradients from the gate gradients on
    /// the tape: output columns (whole panels) split `parts` ways, this call
    /// doing part `part`. Each element is summed over the streams in order
    /// (each stream's sum over steps, then added): the same chain of floats
    /// however the columns are split.
    private func accumulateGradients(_ index: Int, cell: Int, _ x: UnsafePointer<Float>, _ tape: Tape,
                                     into gradients: FloatBuffer, part: Int, of parts: Int) {
        let layer = model.layers[index].cell(cell)
        let cellRoom = tape.bidirectional[index]?.room.cell(cell)
        let steps = tape.steps, width = layer.width
        let panels = WorkerPool.split((width + panelWidth - 1) / panelWidth, parts, part)
        let start = panels.lowerBound * panelWidth, end = min(panels.upperBound * panelWidth, width)
        guard start < end else { return }
        let columns = end - start
        let g = gradients.base
        // The reverse cell's input and outputs are in its own time order.
        let input = cell == 1 ? tape.bidirectional[index]!.room.reversedInput : tape.layerInput(index, x)
        let output = cellRoom?.output ?? tape.output(index)
        let inputSide = tape.gateGradients(index, stateSide: false), stateSide = tape.gateGradients(index, stateSide: true)
        // Each stream's own steps (the positions past its length hold no gradient).
        func own(_ stream: Int) -> Int { RecurCore.steps(of: stream, steps, lengths: tape.lengths) }
        // Gate gradients of the columns start ..< end, one row per step.
        func columnsOf(_ gradients: Sequences, _ stream: Int) -> ConstRows {
            ConstRows(base: gradients.at(stream: stream, step: 0) + start, stride: width)
        }
        for stream in 0..<tape.batch where own(stream) > 0 {
            kernels.accumulateWeightGradient(count: own(stream), depth: layer.inputSize, width: columns,
                                             input: input.steps(of: stream).readOnly, gradient: columnsOf(inputSide, stream),
                                             into: g + layer.inputWeightOffset + start * layer.inputSize)
            if layer.kind.isRecurrent {
                // h_t-1 of step t: one step before the output of step t.
                let previous = ConstRows(base: output.at(stream: stream, step: -1), stride: output.stepStride)
                kernels.accumulateWeightGradient(count: own(stream), depth: layer.hiddenSize, width: columns,
                                                 input: previous, gradient: columnsOf(stateSide, stream),
                                                 into: g + layer.recurrentWeightOffset + start * layer.hiddenSize)
            }
        }
        for stream in 0..<tape.batch where own(stream) > 0 {
            if let offset = layer.inputBiasOffset {
                kernels.accumulateRows(count: own(stream), width: columns, gradient: columnsOf(inputSide, stream), into: g + offset + start)
            }
            if let offset = layer.recurrentBiasOffset {
                kernels.accumulateRows(count: own(stream), width: columns, gradient: columnsOf(stateSide, stream), into: g + offset + start)
            }
        }
    }

    /// W^T of every weight block the backward pass needs: W_hh of the
    /// recurrent layers from the lowest trainable one up, W_ih of the layers
    /// above it (whose input gradient is needed).
    private func refreshTransposed(from lowest: Int) {
        let p = model.parameters.base, t = transposed.base
        for index in lowest..<model.layers.count {
            for cell in model.layers[index].cells {
                let layer = model.layers[index].cell(cell), width = layer.width, offsets = transposedOffsets[index][cell]
                if index > lowest {
                    Backprop.transpose(p + layer.inputWeightOffset, depth: layer.inputSize, width: width, into: t + offsets.input)
                }
                if layer.kind.isRecurrent {
                    Backprop.transpose(p + layer.recurrentWeightOffset, depth: layer.hiddenSize, width: width,
                                       into: t + offsets.recurrent)
                }
            }
        }
    }

    /// A [depth inputs -> width outputs] block in the panel layout, written
    /// as the [width -> padded(depth)] block of its transpose.
    static func transpose(_ w: UnsafePointer<Float>, depth: Int, width: Int, into target: UnsafeMutablePointer<Float>) {
        let targetWidth = padded(depth)
        for k in 0..<depth {
            for r in 0..<width {
                target[panelIndex(input: r, output: k, depth: width, width: targetWidth)] =
                    w[panelIndex(input: k, output: r, depth: depth, width: width)]
            }
        }
    }
}
