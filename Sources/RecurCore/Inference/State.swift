/// Inference state for `batch` independent streams over one model.
///
/// `values` is laid out exactly as `get`/`set` show it: stream after stream,
/// and within a stream layer 0's h, layer 0's c (LSTM only), layer 1's h, ...
/// Everything a step needs is allocated here, once: a step allocates nothing.
/// A state is used by one thread at a time; it keeps its model alive.
public final class State {
    public let model: Model
    public let batch: Int
    /// [batch][model.stateSize]
    let values: FloatBuffer
    /// Dense layers' outputs, [batch][denseWidth]: the next layer's input.
    let denseOutputs: FloatBuffer
    private let denseOffsets: [Int]
    private let denseWidth: Int
    /// Room for the largest layer's per-step scratch.
    let scratch: FloatBuffer

    public init(model: Model, batch: Int) throws(RecurError) {
        guard batch >= 1 else { throw .invalidArgument("batch is \(batch): a state needs at least one stream") }
        let (total, overflow) = batch.multipliedReportingOverflow(by: max(model.stateSize, 1))
        guard !overflow, total <= ModelLimits.maximumParameters else {
            throw .invalidArgument("batch \(batch) x state size \(model.stateSize) is more than the limit of \(ModelLimits.maximumParameters) floats")
        }
        var offsets: [Int] = []
        var width = 0
        for layer in model.layers {
            offsets.append(width)
            if layer.kind == .dense { width += layer.outputSize }
        }
        self.model = model
        self.batch = batch
        self.denseOffsets = offsets
        self.denseWidth = width
        self.values = try FloatBuffer(count: batch * model.stateSize)
        self.denseOutputs = try FloatBuffer(count: batch * width)
        self.scratch = try FloatBuffer(count: model.layers.map(\.scratchSize).max() ?? 0)
    }

    /// Floats per stream in `get`/`set`.
    public var size: Int { model.stateSize }

    // MARK: Running

    /// One time step for every stream: `input` is [batch][inputSize],
    /// `output` is [batch][outputSize].
    public func step(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        try run(input: input, steps: 1, output: output)
    }

    /// `steps` time steps continuing from the current state: `input` is
    /// [batch][steps][inputSize], `output` is [batch][steps][outputSize].
    /// On any error the state is left unchanged.
    public func run(input: UnsafeBufferPointer<Float>, steps: Int,
                    output: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        guard steps >= 1 else { throw .invalidArgument("steps is \(steps): at least one step is needed") }
        let inputSize = model.inputSize, outputSize = model.outputSize
        let (inputCount, o1) = batch.multipliedReportingOverflow(by: steps)
        let (needIn, o2) = inputCount.multipliedReportingOverflow(by: inputSize)
        let (needOut, o3) = inputCount.multipliedReportingOverflow(by: outputSize)
        guard !o1, !o2, !o3 else { throw .shape("batch \(batch) x steps \(steps) is too large") }
        guard input.count == needIn else {
            throw .shape("input has \(input.count) floats, batch \(batch) x steps \(steps) x input size \(inputSize) needs \(needIn)")
        }
        guard output.count == needOut else {
            throw .shape("output has room for \(output.count) floats, batch \(batch) x steps \(steps) x output size \(outputSize) needs \(needOut)")
        }
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        // Refuse non-finite input before touching the state.
        for i in 0..<needIn where !x[i].isFinite {
            let stream = i / (steps * inputSize), t = i / inputSize % steps, feature = i % inputSize
            throw RecurError(.numeric, "input[\(stream)][\(t)][\(feature)] is \(x[i]), not a finite number")
        }
        for t in 0..<steps {
            advance(input: x + t * inputSize, inputStride: steps * inputSize,
                    output: y + t * outputSize, outputStride: steps * outputSize)
        }
    }

    /// Advances every stream by one step. Stream b reads its input at
    /// `input + b·inputStride` and writes its output at `output + b·outputStride`.
    private func advance(input: UnsafePointer<Float>, inputStride: Int,
                         output: UnsafeMutablePointer<Float>, outputStride: Int) {
        let p = UnsafePointer(model.parameters.base)
        for (index, layer) in model.layers.enumerated() {
            for stream in 0..<batch {
                let x = index == 0 ? input + stream * inputStride : UnsafePointer(layerOutput(index - 1, stream))
                switch layer.kind {
                case .dense:
                    DenseLayer.forward(layer, parameters: p, input: x, output: layerOutput(index, stream))
                case .rnn:
                    RNNCell.forward(layer, parameters: p, input: x, state: layerOutput(index, stream), scratch: scratch.base)
                case .lstm:
                    LSTMCell.forward(layer, parameters: p, input: x, state: layerOutput(index, stream), scratch: scratch.base)
                case .gru:
                    GRUCell.forward(layer, parameters: p, input: x, state: layerOutput(index, stream), scratch: scratch.base)
                }
            }
        }
        let last = model.layers.count - 1
        for stream in 0..<batch {
            (output + stream * outputStride).update(from: layerOutput(last, stream), count: model.outputSize)
        }
    }

    /// Where layer `index` keeps stream `stream`'s output: a recurrent
    /// layer's h in `values`, a dense layer's slot in `denseOutputs`.
    @inline(__always)
    private func layerOutput(_ index: Int, _ stream: Int) -> UnsafeMutablePointer<Float> {
        model.layers[index].kind == .dense
            ? denseOutputs.base + stream * denseWidth + denseOffsets[index]
            : values.base + stream * model.stateSize + model.stateOffsets[index]
    }

    // MARK: State values

    /// Every stream back to zeros.
    public func reset() {
        values.zero()
        denseOutputs.zero()
    }

    /// One stream back to zeros; the others are untouched.
    public func reset(stream: Int) throws(RecurError) {
        guard stream >= 0 && stream < batch else {
            throw .invalidArgument("stream \(stream) is out of range: the state has \(batch) stream\(batch == 1 ? "" : "s")")
        }
        values.zero(from: stream * size, count: size)
        denseOutputs.zero(from: stream * denseWidth, count: denseWidth)
    }

    /// Copies the state out: [batch][size].
    public func get(into out: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        guard out.count == batch * size else {
            throw .shape("count is \(out.count), the state holds batch \(batch) x \(size) = \(batch * size) floats")
        }
        guard let base = out.baseAddress else { return }
        base.update(from: values.base, count: out.count)
    }

    /// Replaces the state: [batch][size] finite values.
    public func set(from source: UnsafeBufferPointer<Float>) throws(RecurError) {
        guard source.count == batch * size else {
            throw .shape("count is \(source.count), the state holds batch \(batch) x \(size) = \(batch * size) floats")
        }
        guard let base = source.baseAddress else { return }
        for i in 0..<source.count where !base[i].isFinite {
            throw RecurError(.numeric, "values[\(i)] (stream \(i / max(size, 1)), element \(i % max(size, 1))) is \(base[i]), not a finite number")
        }
        values.base.update(from: base, count: source.count)
    }
}
