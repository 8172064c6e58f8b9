import RecurKernelInterface

/// Inference state for `batch` independent streams over one model.
///
/// A call runs layer by layer over a chunk of time steps: first the input
/// projections of the whole chunk (one matrix product), then, step by step,
/// the recurrent projection of all streams at once and the cell's
/// element-wise part. Every output element is computed the same way however
/// many streams or steps a call has, so a stream's floats do not depend on
/// how it is called.
///
/// Everything a call needs is allocated here, once: step and run allocate
/// nothing and take no lock. A state is used by one thread at a time; it
/// keeps its model alive.
public final class State {
    public let model: Model
    public let batch: Int
    public let kernels: KernelSet
    /// Each stream's state, [batch][model.paddedStateSize]: per recurrent
    /// layer h (and c), each padded to 16 floats.
    let values: FloatBuffer
    /// What a call works in, for chunks of up to `room.chunk` steps. A
    /// model with a bidirectional layer runs each call as one chunk (its
    /// reverse cells start at the last step): its room grows to the longest
    /// call so far, and calls no longer than that allocate nothing.
    private var room: ChunkRoom
    /// Worker threads when more than one thread is asked for; each takes a
    /// contiguous range of streams (every buffer is per stream).
    private var pool: WorkerPool? = nil

    /// Threads a call uses (1 unless `setThreads` asked for more).
    public var threads: Int { pool?.count ?? 1 }

    /// Splits the streams of every later call over `count` threads (1: no
    /// threads, the default). Results stay bit-identical: each stream is
    /// computed the same way on any thread.
    public func setThreads(_ count: Int) throws(RecurError) {
        guard count >= 1 && count <= 256 else {
            throw .invalidArgument("threads is \(count): expected 1 to 256")
        }
        pool = count == 1 ? nil : try WorkerPool(count: min(count, batch))
    }

    public init(model: Model, batch: Int, kernels: KernelSet = .active) throws(RecurError) {
        guard batch >= 1 else { throw .invalidArgument("batch is \(batch): a state needs at least one stream") }
        let widest = ChunkRoom.widest(model)
        let (total, overflow) = batch.multipliedReportingOverflow(by: widest)
        guard !overflow, total <= ModelLimits.maximumParameters else {
            throw .invalidArgument("batch \(batch) is too large for this model (limit \(ModelLimits.maximumParameters / widest) streams)")
        }
        self.model = model
        self.batch = batch
        self.kernels = kernels
        values = try FloatBuffer(count: batch * model.paddedStateSize)
        // Chunks of up to 64 steps, within about 4 MB of projections.
        room = try ChunkRoom(model: model, kernels: kernels, batch: batch, chunk: max(1, min(64, (1 << 20) / total)),
                             values: values)
    }

    /// Floats per stream in `get`/`set`.
    public var size: Int { model.stateSize }

    // MARK: Running

    /// Input and output floats of a call of `steps` steps; refuses 0 steps
    /// and sizes no buffer could hold.
    public func valueCounts(steps: Int) throws(RecurError) -> (input: Int, output: Int) {
        guard steps >= 1 else { throw .invalidArgument("steps is \(steps): at least one step is needed") }
        let (positions, o1) = batch.multipliedReportingOverflow(by: steps)
        let (input, o2) = positions.multipliedReportingOverflow(by: model.inputSize)
        let (output, o3) = positions.multipliedReportingOverflow(by: model.outputSize)
        guard !o1, !o2, !o3, input <= Int.max / 8, output <= Int.max / 8 else {
            throw .shape("batch \(batch) x steps \(steps) is too large")
        }
        return (input, output)
    }

    /// `run` over C arrays: `x` holds [batch][steps][inputSize] floats and
    /// `y` has room for [batch][steps][outputSize]; with `lengths` (one per
    /// stream) as in `run(input:steps:lengths:output:)`. Every size is
    /// checked here, once.
    public func run(x: UnsafePointer<Float>, steps: Int, lengths: UnsafePointer<UInt>? = nil,
                    y: UnsafeMutablePointer<Float>) throws(RecurError) {
        _ = try valueCounts(steps: steps)
        try runChecked(x, steps: steps, lengths: lengths, y)
    }

    /// `step` over C arrays: `x` holds [batch][inputSize] floats and `y` has
    /// room for [batch][outputSize].
    public func step(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) throws(RecurError) {
        try refuseStepIfBidirectional()
        try runChecked(x, steps: 1, lengths: nil, y, oneStep: true)
    }

    /// One time step for every stream: `input` is [batch][inputSize],
    /// `output` is [batch][outputSize].
    public func step(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        try refuseStepIfBidirectional()
        try checkBuffers(input: input, steps: 1, output: output)
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        try runChecked(x, steps: 1, lengths: nil, y, oneStep: true)
    }

    /// A model with a bidirectional layer needs a whole sequence: its reverse
    /// cells start at the last step.
    private func refuseStepIfBidirectional() throws(RecurError) {
        if let index = model.firstBidirectionalLayer {
            throw .model("layers[\(index)] is bidirectional: the model runs whole sequences only (run, each call one complete sequence from zero state), it cannot step")
        }
    }

    /// `steps` time steps continuing from the current state: `input` is
    /// [batch][steps][inputSize], `output` is [batch][steps][outputSize].
    /// On any error the state is left unchanged.
    public func run(input: UnsafeBufferPointer<Float>, steps: Int,
                    output: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        try checkBuffers(input: input, steps: steps, output: output)
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        try runChecked(x, steps: steps, lengths: nil, y)
    }

    /// `run` over streams of different lengths: stream b runs only its
    /// first `lengths[b]` steps (0 ... steps). Its inputs past them are never
    /// read, its outputs there are written as 0, and its state afterwards is
    /// the one after its own last step. A stream's floats are the same as
    /// when it runs alone for its own length.
    public func run(input: UnsafeBufferPointer<Float>, steps: Int, lengths: UnsafeBufferPointer<UInt>,
                    output: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        try checkBuffers(input: input, steps: steps, output: output)
        guard lengths.count == batch else {
            throw .shape("lengths has \(lengths.count) entries, one per stream (\(batch)) is needed")
        }
        guard let x = input.baseAddress, let y = output.baseAddress, let lengths = lengths.baseAddress else { return }
        try runChecked(x, steps: steps, lengths: lengths, y)
    }

    /// The rest of the checks (lengths, finite input), then the run; the
    /// sizes are known to be right.
    /// `oneStep`: a step call, whose messages name input[stream][i].
    private func runChecked(_ x: UnsafePointer<Float>, steps: Int, lengths: UnsafePointer<UInt>?,
                            _ y: UnsafeMutablePointer<Float>, oneStep: Bool = false) throws(RecurError) {
        if let lengths {
            for stream in 0..<batch where lengths[stream] > UInt(steps) {
                throw .invalidArgument("lengths[\(stream)] is \(lengths[stream]), more than steps (\(steps))")
            }
        }
        try checkFinite(x, steps: steps, lengths: lengths, oneStep: oneStep)
        if model.firstBidirectionalLayer != nil {
            // One chunk for the whole sequence, from zero state.
            if steps > room.chunk {
                room = try ChunkRoom(model: model, kernels: kernels, batch: batch, chunk: steps, values: values)
            }
            values.zero()
        }
        advance(x, steps: steps, lengths: lengths, y)
    }

    private func checkBuffers(input: UnsafeBufferPointer<Float>, steps: Int,
                              output: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        let (needIn, needOut) = try valueCounts(steps: steps)
        guard input.count == needIn else {
            throw .shape("input has \(input.count) floats, batch \(batch) x steps \(steps) x input size \(model.inputSize) needs \(needIn)")
        }
        guard output.count == needOut else {
            throw .shape("output has room for \(output.count) floats, batch \(batch) x steps \(steps) x output size \(model.outputSize) needs \(needOut)")
        }
    }

    /// Refuses non-finite input (of each stream's own steps) before the
    /// state is touched.
    private func checkFinite(_ x: UnsafePointer<Float>, steps: Int, lengths: UnsafePointer<UInt>?,
                             oneStep: Bool) throws(RecurError) {
        let inputSize = model.inputSize
        for stream in 0..<batch {
            let own = lengths.map { Int($0[stream]) } ?? steps
            let start = stream * steps * inputSize
            if !containsNonFinite(x + start, count: own * inputSize) { continue }
            for i in start..<(start + own * inputSize) where !x[i].isFinite {
                let place = oneStep ? "[\(stream)][\(i % inputSize)]" : "[\(stream)][\((i - start) / inputSize)][\(i % inputSize)]"
                throw RecurError(.numeric, "input\(place) is \(x[i]), not a finite number")
            }
        }
    }

    /// Whether any of `count` floats is infinite or NaN (all exponent bits
    /// set), 8 at a time with no branch per value: a long `run` reads every
    /// input here once more before any kernel does.
    @inline(__always)
    private func containsNonFinite(_ p: UnsafePointer<Float>, count: Int) -> Bool {
        let raw = UnsafeRawPointer(p), exponent = SIMD8<UInt32>(repeating: 0x7F80_0000)
        var found = SIMDMask<SIMD8<Int32>>(repeating: false)
        var i = 0
        while i + 8 <= count {
            let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<UInt32>.self)
            found .|= (bits & exponent) .== exponent
            i += 8
        }
        while i < count {
            if !p[i].isFinite { return true }
            i += 1
        }
        return any(found)
    }

    /// Runs `steps` steps chunk by chunk (checked inputs).
    private func advance(_ x: UnsafePointer<Float>, steps: Int, lengths: UnsafePointer<UInt>?, _ y: UnsafeMutablePointer<Float>) {
        let inputSize = model.inputSize, outputSize = model.outputSize
        let room = self.room, chunk = room.chunk
        var start = 0
        while start < steps {
            let count = min(chunk, steps - start)
            let chunkInput = x + start * inputSize
            // Each stream's steps within this chunk.
            if let lengths {
                for stream in 0..<batch { room.chunkLengths.base[stream] = max(0, min(count, Int(lengths[stream]) - start)) }
            }
            room.passes.withUnsafeBufferPointer { passes in
                let plan = ChunkPlan(passes: passes, halfWeights: model.halfWeights,
                                     int8: model.int8View, int8Path: kernels.int8Path,
                                     lengths: lengths == nil ? nil : UnsafePointer(room.chunkLengths.base))
                if let pool {
                    let parts = pool.count, batch = self.batch, model = self.model
                    pool.run { part in
                        StackRunner.forward(model, plan: plan, input: chunkInput, inputStreamStride: steps * inputSize,
                                            streams: WorkerPool.split(batch, parts, part), steps: count)
                    }
                } else {
                    StackRunner.forward(model, plan: plan, input: chunkInput, inputStreamStride: steps * inputSize,
                                        streams: 0..<batch, steps: count)
                }
            }
            let last = room.outputs[room.outputs.count - 1].base, width = model.layers[model.layers.count - 1].paddedOutput
            for stream in 0..<batch {
                let own = lengths == nil ? count : room.chunkLengths.base[stream]
                for t in 0..<count {
                    let target = y + (stream * steps + start + t) * outputSize
                    if t < own {
                        target.update(from: last + (stream * chunk + t) * width, count: outputSize)
                    } else {
                        target.update(repeating: 0, count: outputSize)
                    }
                }
            }
            start += count
        }
    }

    // MARK: State values

    /// Every stream back to zeros.
    public func reset() {
        values.zero()
    }

    /// One stream back to zeros; the others are untouched.
    public func reset(stream: Int) throws(RecurError) {
        guard stream >= 0 && stream < batch else {
            throw .invalidArgument("stream \(stream) is out of range: the state has \(batch) stream\(batch == 1 ? "" : "s")")
        }
        values.zero(from: stream * model.paddedStateSize, count: model.paddedStateSize)
    }

    /// Copies the state out: [batch][size], in the format's layout.
    public func get(into out: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        guard out.count == batch * size else {
            throw .shape("count is \(out.count), the state holds batch \(batch) x \(size) = \(batch * size) floats")
        }
        guard let base = out.baseAddress else { return }
        model.forEachStateVector { padded, packed, length in
            for stream in 0..<batch {
                (base + stream * size + packed).update(from: values.base + stream * model.paddedStateSize + padded, count: length)
            }
        }
    }

    /// Replaces the state: [batch][size] finite values. Refused for a model
    /// with a bidirectional layer, whose runs all start from zero state.
    public func set(from source: UnsafeBufferPointer<Float>) throws(RecurError) {
        if let index = model.firstBidirectionalLayer {
            throw .model("layers[\(index)] is bidirectional: every run of this model starts from zero state, so a state cannot be set")
        }
        guard source.count == batch * size else {
            throw .shape("count is \(source.count), the state holds batch \(batch) x \(size) = \(batch * size) floats")
        }
        guard let base = source.baseAddress else { return }
        for i in 0..<source.count where !base[i].isFinite {
            throw RecurError(.numeric, "values[\(i)] (stream \(i / max(size, 1)), element \(i % max(size, 1))) is \(base[i]), not a finite number")
        }
        model.forEachStateVector { padded, packed, length in
            for stream in 0..<batch {
                (values.base + stream * model.paddedStateSize + padded).update(from: base + stream * size + packed, count: length)
            }
        }
    }
}

/// What a State's calls work in, for chunks of up to `chunk` steps: each
/// layer's outputs for the chunk ([batch][chunk][paddedOutput]), the shared
/// projection buffers, the cells of bidirectional layers, and each layer's
/// pass over them, laid out once.
private final class ChunkRoom {
    let chunk: Int
    /// W_ih x of every (stream, step) of a chunk, [batch][chunk][widest];
    /// a layer uses `width` floats of each row. W_hh h of every stream,
    /// [batch][widest].
    let inputProjections: FloatBuffer
    let stateProjections: FloatBuffer
    /// Per layer: its output at every (stream, step) of a chunk.
    let outputs: [FloatBuffer]
    /// Per bidirectional layer, its cells' room (kept alive for `passes`).
    let bidirectional: [BidirectionalBuffers]
    /// Each stream's steps within the current chunk, for runs with lengths.
    let chunkLengths: IntBuffer
    /// Per layer, where its forward pass reads and writes (all but the
    /// streams, the steps and the model's input).
    let passes: [ForwardPass]

    /// The widest layer's width: per-stream strides do not depend on the
    /// layer, so threads on different layers never share a row.
    static func widest(_ model: Model) -> Int { model.layers.map { max($0.width, $0.paddedOutput) }.max() ?? 1 }

    init(model: Model, kernels: KernelSet, batch: Int, chunk: Int, values: FloatBuffer) throws(RecurError) {
        let widest = ChunkRoom.widest(model)
        let (rows, o1) = batch.multipliedReportingOverflow(by: chunk + 1)
        let (floats, o2) = rows.multipliedReportingOverflow(by: max(widest, model.inputSize))
        guard !o1, !o2, floats <= Int.max / 64 else {
            throw .shape("batch \(batch) x steps \(chunk) is too large for this model")
        }
        self.chunk = chunk
        inputProjections = try FloatBuffer(count: batch * chunk * widest)
        stateProjections = try FloatBuffer(count: batch * widest)
        var outputs: [FloatBuffer] = [], bidirectional: [BidirectionalBuffers] = []
        var rooms: [UnsafePointer<BidirectionalRoom>?] = []
        for layer in model.layers {
            outputs.append(try FloatBuffer(count: batch * chunk * layer.paddedOutput))
            if layer.isBidirectional {
                let buffers = try BidirectionalBuffers(layer: layer, batch: batch, steps: chunk, training: false)
                bidirectional.append(buffers)
                rooms.append(buffers.roomPointer)
            } else {
                rooms.append(nil)
            }
        }
        self.outputs = outputs
        self.bidirectional = bidirectional
        chunkLengths = try IntBuffer(count: batch)
        var passes: [ForwardPass] = []
        for (index, layer) in model.layers.enumerated() {
            let input: Sequences
            if index == 0 {
                input = Sequences(base: inputProjections.base, streamStride: 0, stepStride: model.inputSize) // base: per call
            } else {
                let below = model.layers[index - 1].paddedOutput
                input = Sequences(base: outputs[index - 1].base, streamStride: chunk * below, stepStride: below)
            }
            passes.append(ForwardPass(
                kernels: kernels.level, weights: UnsafePointer(model.parameters.base), halfWeights: nil,
                streams: 0..<0, steps: 0, lengths: nil, input: input,
                output: Sequences(base: outputs[index].base, streamStride: chunk * layer.paddedOutput, stepStride: layer.paddedOutput),
                record: nil, keepsInitialState: false,
                inputProjections: Sequences(base: inputProjections.base, streamStride: chunk * widest, stepStride: layer.width),
                stateProjections: MutableRows(base: stateProjections.base, stride: widest),
                state: MutableRows(base: values.base + model.paddedStateOffsets[index], stride: model.paddedStateSize),
                bidirectional: rooms[index]))
        }
        self.passes = passes
    }
}

/// Where inference's pass over a chunk of steps reads and writes: the
/// room's passes, with this call's weights storage and lengths.
private struct ChunkPlan: ForwardBufferPlan {
    let passes: UnsafeBufferPointer<ForwardPass>
    /// The model's fp16 weights when it has them (read per call: the
    /// storage may change between calls).
    let halfWeights: UnsafePointer<UInt16>?
    /// The model's int8 weights when it has them, and the path to multiply them.
    let int8: Int8View?
    let int8Path: Int32
    /// Each stream's steps in this chunk, when streams have lengths.
    let lengths: UnsafePointer<Int>?

    @inline(__always)
    func forwardPass(layer index: Int, input x: UnsafePointer<Float>, inputStreamStride: Int,
                     streams: Range<Int>, steps: Int) -> ForwardPass {
        // The layer's pass as laid out once, with this call's part filled in.
        var pass = passes[index]
        if index == 0 {
            pass.input = Sequences(base: UnsafeMutablePointer(mutating: x), streamStride: inputStreamStride,
                                   stepStride: pass.input.stepStride)
        }
        pass.halfWeights = halfWeights
        pass.int8 = int8
        pass.int8Path = int8Path
        pass.streams = streams
        pass.steps = steps
        pass.lengths = lengths
        return pass
    }
}
