// The one loop over a model's layers, shared by inference (State) and
// training (Trainer). What differs between the two is only where each layer
// reads and writes: a buffer plan (an inference chunk, or a training tape)
// says that, and the layer's kind (Layers/) does the work.
import RecurKernelInterface

/// Where a forward pass over the stack reads and writes, layer by layer.
protocol ForwardBufferPlan {
    /// The buffers of layer `index` for a pass over `steps` steps of
    /// `streams`; `input` is the model's input (stream b, step t at
    /// input + b·inputStreamStride + t·inputSize).
    func forwardPass(layer index: Int, input: UnsafePointer<Float>, inputStreamStride: Int,
                     streams: Range<Int>, steps: Int) -> ForwardPass
}

enum StackRunner {
    /// Runs every layer, lowest first, over `steps` steps of `streams`.
    @inline(__always)
    static func forward<Plan: ForwardBufferPlan>(_ model: Model, plan: Plan, input: UnsafePointer<Float>,
                                                 inputStreamStride: Int, streams: Range<Int>, steps: Int) {
        guard !streams.isEmpty else { return }
        for (index, layer) in model.layers.enumerated() {
            let pass = plan.forwardPass(layer: index, input: input, inputStreamStride: inputStreamStride,
                                        streams: streams, steps: steps)
            if let room = pass.bidirectional {
                Bidirectional.forward(layer, pass, room.pointee)
            } else {
                layer.kind.definition.forward(layer, pass)
            }
        }
    }
}

/// Calls `body(run)` for each run of consecutive streams among `streams`
/// that have more than t steps (all of them, at once, without lengths).
@inline(__always)
func runs(of streams: Range<Int>, at t: Int, lengths: UnsafePointer<Int>?, _ body: (Range<Int>) -> Void) {
    guard let lengths else { return body(streams) }
    var start = streams.lowerBound
    while start < streams.upperBound {
        while start < streams.upperBound && lengths[start] <= t { start += 1 }
        var end = start
        while end < streams.upperBound && lengths[end] > t { end += 1 }
        if start < end { body(start..<end) }
        start = end
    }
}

/// How many of `steps` steps stream `stream` runs (all without lengths).
@inline(__always)
func steps(of stream: Int, _ steps: Int, lengths: UnsafePointer<Int>?) -> Int { lengths.map { $0[stream] } ?? steps }

/// Per-stream sequences: stream b's values at step t start at
/// base + b·streamStride + t·stepStride.
struct Sequences {
    let base: UnsafeMutablePointer<Float>
    let streamStride: Int
    let stepStride: Int

    @inline(__always) func at(stream: Int, step: Int) -> UnsafeMutablePointer<Float> {
        base + stream * streamStride + step * stepStride
    }
    /// Step t of the streams from `stream` on, as rows one stream apart.
    @inline(__always) func step(_ t: Int, from stream: Int) -> MutableRows {
        MutableRows(base: at(stream: stream, step: t), stride: streamStride)
    }
    /// Stream b's steps from step 0, as rows one step apart.
    @inline(__always) func steps(of b: Int) -> MutableRows { MutableRows(base: at(stream: b, step: 0), stride: stepStride) }
}

/// Everything one layer's forward pass over a chunk of steps reads and
/// writes, for the streams `streams`. Pointers are at stream 0, step 0.
struct ForwardPass {
    let kernels: any Kernels.Type
    /// The model's float32 parameters, and its fp16 copy when inference
    /// reads that (nil in training and with float32 storage).
    let weights: UnsafePointer<Float>
    var halfWeights: UnsafePointer<UInt16>?
    /// The model's int8 weights when inference reads those (nil otherwise),
    /// and the kernel level's int8 path (KernelSet.int8Path).
    var int8: Int8View? = nil
    var int8Path: Int32 = 0
    var streams: Range<Int>
    var steps: Int
    /// Per stream (indexed by stream): how many of the `steps` steps it
    /// runs, when streams have different lengths (nil: all of them). A
    /// stream's inputs past its steps are never read, nor its outputs
    /// written, and its state stays the one after its own last step.
    var lengths: UnsafePointer<Int>?
    /// The layer's input (the model's input, or the layer below's output).
    var input: Sequences
    /// Its output at every step: h_t, or a dense layer's y_t.
    var output: Sequences
    /// Training only: what the backward pass needs of every step (the
    /// kind's record), and one step before `output` and `record` the
    /// initial state is kept (`keepsInitialState`).
    var record: Sequences?
    let keepsInitialState: Bool
    /// Room for W_ih x of every (stream, step) (step stride: the layer's width).
    let inputProjections: Sequences
    /// Room for W_hh h of every stream.
    let stateProjections: MutableRows
    /// The layer's state (h, then c) of each stream.
    var state: MutableRows
    /// Where the two cells of a bidirectional layer work (nil for a
    /// forward layer); see Stack/Bidirectional.swift.
    var bidirectional: UnsafePointer<BidirectionalRoom>?

    var first: Int { streams.lowerBound }
    var count: Int { streams.count }

    /// How many steps stream `stream` runs.
    @inline(__always) func steps(of stream: Int) -> Int { RecurCore.steps(of: stream, steps, lengths: lengths) }

    /// The streams that run step t, in runs of consecutive streams.
    @inline(__always)
    func forEachRun(at t: Int, _ body: (Range<Int>) -> Void) { runs(of: streams, at: t, lengths: lengths, body) }

    /// out[i] = W x[i] for `count` rows, with the weight block at `offset`
    /// of the parameters, in the model's weight storage for inference.
    @inline(__always)
    func project(_ count: Int, depth: Int, width: Int, weightOffset offset: Int, input: MutableRows, output: MutableRows) {
        if let int8 {
            int8.project(path: int8Path, count: count, depth: depth, width: width, weightOffset: offset, input: input, output: output)
        } else if let halfWeights {
            kernels.projectHalf(count: count, depth: depth, width: width, weights: halfWeights + offset,
                                input: input.readOnly, output: output)
        } else {
            kernels.project(count: count, depth: depth, width: width, weights: weights + offset,
                            input: input.readOnly, output: output)
        }
    }

    /// W_ih x (W x for dense) of every (stream, step) among `steps` into
    /// `out` (all steps by default): step by step across the streams when
    /// there are at least as many streams as steps (the batched product
    /// shares each weight load among streams), else stream by stream across
    /// the steps. Each output is the same one FMA chain either way.
    @inline(__always)
    func projectInputs(_ layer: Layer, into out: Sequences, steps range: Range<Int>? = nil) {
        let range = range ?? 0..<steps
        @inline(__always) func rows(_ sequences: Sequences, _ stream: Int) -> MutableRows {
            MutableRows(base: sequences.at(stream: stream, step: range.lowerBound), stride: sequences.stepStride)
        }
        if lengths != nil {
            // Only each stream's own steps: the inputs past them are never read.
            for stream in streams where steps(of: stream) > range.lowerBound {
                project(min(steps(of: stream), range.upperBound) - range.lowerBound, depth: layer.inputSize, width: layer.width,
                        weightOffset: layer.inputWeightOffset, input: rows(input, stream), output: rows(out, stream))
            }
        } else if count >= range.count {
            for t in range {
                project(count, depth: layer.inputSize, width: layer.width, weightOffset: layer.inputWeightOffset,
                        input: input.step(t, from: first), output: out.step(t, from: first))
            }
        } else {
            for stream in streams {
                project(range.count, depth: layer.inputSize, width: layer.width, weightOffset: layer.inputWeightOffset,
                        input: rows(input, stream), output: rows(out, stream))
            }
        }
    }

    /// W_hh h of the streams `rows`, into `stateProjections`.
    @inline(__always)
    func projectState(_ layer: Layer, _ rows: Range<Int>) {
        project(rows.count, depth: layer.hiddenSize, width: layer.width, weightOffset: layer.recurrentWeightOffset,
                input: state.from(rows.lowerBound), output: stateProjections.from(rows.lowerBound))
    }

    /// The layer's biases (nil when absent).
    func inputBias(_ layer: Layer) -> UnsafePointer<Float>? { layer.inputBiasOffset.map { weights + $0 } }
    func recurrentBias(_ layer: Layer) -> UnsafePointer<Float>? { layer.recurrentBiasOffset.map { weights + $0 } }

    /// W_hh of `layer` for a fused single-stream step, or nil: only
    /// inference with float32 weights takes it (training records every step;
    /// fp16 and int8 storage keep their own products).
    func fusedStateWeights(_ layer: Layer) -> UnsafePointer<Float>? {
        guard record == nil, int8 == nil, halfWeights == nil else { return nil }
        return weights + layer.recurrentWeightOffset
    }

    /// Passes over at most this many streams take the kind's fused steps,
    /// stream by stream: at AVX2 and AVX-512 the batched product goes
    /// stream by stream below three streams anyway. (At SSE2, whose tile is
    /// two streams, two streams give up sharing weight loads for it.)
    static let fusedStreams = 2

    /// The common shape of a recurrent layer's pass: the input projections
    /// of the whole chunk, then step by step the state projection and the
    /// cell (`cell(t, rows)`, for the streams `rows` that run step t). In
    /// training, first the initial h is kept one step before the outputs
    /// (the backward pass reads h_t-1 there). In inference over one or two
    /// streams, each stream's steps of a block go to the kind's fused kernel
    /// instead (`fusedSteps(steps, stream, W_hh)`: projection and cell per
    /// step, one call for the block's steps; the same bits).
    ///
    /// The projections are made a block of steps at a time, just before the
    /// cells read them (about 512 KB of them, at least 32 steps, so that
    /// they are still in cache); the floats are the same for any block.
    @inline(__always)
    func runRecurrent(_ layer: Layer, fusedSteps: (_ steps: Range<Int>, _ stream: Int, _ stateWeights: UnsafePointer<Float>) -> Void,
                      cell: (_ t: Int, _ rows: Range<Int>) -> Void) {
        if keepsInitialState {
            for stream in streams {
                (output.at(stream: stream, step: 0) - output.stepStride).update(from: state[stream], count: layer.paddedHidden)
            }
        }
        let fused = count <= ForwardPass.fusedStreams ? fusedStateWeights(layer) : nil
        let block = max(32, (1 << 17) / max(1, count * layer.width))
        var start = 0
        while start < steps {
            let end = min(steps, start + block)
            projectInputs(layer, into: inputProjections, steps: start..<end)
            if let fused {
                for stream in streams where steps(of: stream) > start {
                    fusedSteps(start..<min(end, steps(of: stream)), stream, fused)
                }
            } else {
                for t in start..<end {
                    forEachRun(at: t) { rows in
                        projectState(layer, rows)
                        cell(t, rows)
                    }
                }
            }
            start = end
        }
    }
}
