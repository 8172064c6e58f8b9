// A bidirectional layer (`"direction": "bidirectional"`) is a variant of its
// kind, not a kind of its own: two cells of the kind over the same input,
// each run by the kind's own forward and backward passes (Layers/) as if it
// were a forward layer. The reverse cell sees each stream's steps reversed
// from its own last step (PyTorch's packed sequences): its input is gathered
// in that order, its outputs and input gradients scattered back. Each cell
// writes its h into its half of the layer's output, [forward h_t, reverse h_t].
import RecurKernelInterface

/// Where one cell of a bidirectional layer works, for every stream. Steps
/// are in the cell's own time order (reversed for the reverse cell).
struct CellRoom {
    /// h at every step; one step before step 0, the initial h (zero).
    let output: Sequences
    /// The kind's record of every step (training only).
    let record: Sequences?
    /// The cell's state while it runs, from zero.
    let state: MutableRows
    /// dL/dh at every step, this cell's half of the layer's output gradient
    /// (training only).
    let outputGradient: Sequences?
}

/// Where a bidirectional layer's two cells work: plain pointers into a
/// `BidirectionalBuffers`. Passes point at it (it is some 300 bytes).
struct BidirectionalRoom {
    let forward: CellRoom
    let reverse: CellRoom
    /// The layer's input, each stream's own steps reversed.
    let reversedInput: Sequences
    /// Training: the reverse cell's dL/d(input) in its time order, and its
    /// |dL/dh|^2 per (stream, step) for the diagnostics.
    let reversedInputGradient: Sequences?
    let reverseSquares: UnsafeMutablePointer<Float>?

    func cell(_ index: Int) -> CellRoom { index == 0 ? forward : reverse }
}

/// The memory behind a `BidirectionalRoom`, for `batch` streams of up to
/// `steps` steps; owned by a State (inference) or a Tape (training).
final class BidirectionalBuffers {
    private let buffers: [FloatBuffer]
    /// The room, kept where passes can point at it: a pointer keeps
    /// `ForwardPass` small, and passes are copied per layer and call.
    private let roomBuffer: AlignedBuffer<BidirectionalRoom>
    var roomPointer: UnsafePointer<BidirectionalRoom> { UnsafePointer(roomBuffer.base) }
    var room: BidirectionalRoom { roomBuffer.base.pointee }

    init(layer: Layer, batch: Int, steps: Int, training: Bool) throws(RecurError) {
        let hidden = layer.paddedHidden, cellState = layer.cell(0).paddedStateSize
        let inputStride = padded(layer.inputSize)
        var buffers: [FloatBuffer] = []
        func buffer(_ count: Int) throws(RecurError) -> UnsafeMutablePointer<Float> {
            let made = try FloatBuffer(count: count)
            buffers.append(made)
            return made.base
        }
        func cell() throws(RecurError) -> CellRoom {
            let output = try buffer(batch * (steps + 1) * hidden)
            let record = training ? try buffer(batch * (steps + 1) * layer.recordSize) : nil
            return CellRoom(
                output: Sequences(base: output + hidden, streamStride: (steps + 1) * hidden, stepStride: hidden),
                record: record.map { Sequences(base: $0 + layer.recordSize, streamStride: (steps + 1) * layer.recordSize,
                                               stepStride: layer.recordSize) },
                state: MutableRows(base: try buffer(batch * max(cellState, 1)), stride: max(cellState, 1)),
                outputGradient: training ? Sequences(base: try buffer(batch * steps * hidden), streamStride: steps * hidden,
                                                     stepStride: hidden) : nil)
        }
        let forward = try cell(), reverse = try cell()
        let reversedInput = Sequences(base: try buffer(batch * steps * inputStride), streamStride: steps * inputStride,
                                      stepStride: layer.inputSize)
        let room = BidirectionalRoom(
            forward: forward, reverse: reverse, reversedInput: reversedInput,
            reversedInputGradient: training ? Sequences(base: try buffer(batch * steps * inputStride),
                                                        streamStride: steps * inputStride, stepStride: inputStride) : nil,
            reverseSquares: training ? try buffer(batch * steps) : nil)
        roomBuffer = try AlignedBuffer(count: 1)
        roomBuffer.base.initialize(to: room)
        self.buffers = buffers
    }
}

enum Bidirectional {
    /// The layer's forward pass: each cell over its own time order, then
    /// its h into its half of the layer's output.
    static func forward(_ layer: Layer, _ pass: ForwardPass, _ room: BidirectionalRoom) {
        let size = layer.hiddenSize
        for index in layer.cells {
            let cell = layer.cell(index), own = room.cell(index)
            for stream in pass.streams { own.state[stream].update(repeating: 0, count: cell.paddedStateSize) }
            var input = pass.input
            if index == 1 {
                for stream in pass.streams {
                    reverse(pass.input, into: room.reversedInput, stream: stream, steps: pass.steps(of: stream), count: layer.inputSize)
                }
                input = room.reversedInput
            }
            // In inference the forward cell writes its h straight into the
            // layer's output (its padding lanes are zero, and the reverse
            // half is written over them next); training keeps each cell's
            // h history apart for the backward pass.
            if index == 0 && pass.record == nil {
                cell.kind.definition.forward(cell, pass.cell(input: input, room: own, output: pass.output))
                continue
            }
            cell.kind.definition.forward(cell, pass.cell(input: input, room: own))
            for stream in pass.streams {
                let steps = pass.steps(of: stream)
                for t in 0..<steps {
                    (pass.output.at(stream: stream, step: t) + index * size)
                        .update(from: own.output.at(stream: stream, step: index == 0 ? t : steps - 1 - t), count: size)
                }
            }
        }
    }

    /// Copies `count` floats of each of stream `stream`'s first `steps`
    /// steps into `target` in reverse order.
    static func reverse(_ source: Sequences, into target: Sequences, stream: Int, steps: Int, count: Int) {
        for t in 0..<steps {
            target.at(stream: stream, step: steps - 1 - t).update(from: source.at(stream: stream, step: t), count: count)
        }
    }

    /// Splits the layer's output gradient into the cells' (each in its own
    /// time order), for the streams `streams`.
    static func splitOutputGradient(_ layer: Layer, _ gradient: Sequences, _ room: BidirectionalRoom,
                                    streams: Range<Int>, lengths: UnsafePointer<Int>?, steps: Int) {
        let size = layer.hiddenSize
        for stream in streams {
            let own = RecurCore.steps(of: stream, steps, lengths: lengths)
            for t in 0..<own {
                let source = gradient.at(stream: stream, step: t)
                room.forward.outputGradient!.at(stream: stream, step: t).update(from: source, count: size)
                room.reverse.outputGradient!.at(stream: stream, step: own - 1 - t).update(from: source + size, count: size)
            }
        }
    }
}

extension ForwardPass {
    /// This pass as one cell of a bidirectional layer sees it: its own
    /// input order, outputs, record and state.
    func cell(input: Sequences, room: CellRoom, output: Sequences? = nil) -> ForwardPass {
        var pass = self
        pass.input = input
        pass.output = output ?? room.output
        pass.record = room.record
        pass.state = room.state
        pass.bidirectional = nil
        return pass
    }
}
