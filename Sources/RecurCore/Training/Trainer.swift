// Fine-tuning by backpropagation through time.
//
// One step: forward over the whole sequence, recording what the backward
// pass needs (the tape) -> loss -> backward, layer by layer from the head,
// time step by time step from the end -> gradient norm -> clip -> optimizer.
// Nothing changes (weights, optimizer state, carried state) unless the
// whole step succeeds.

/// The targets of one trainer step.
public enum TrainingTargets {
    /// [batch][steps][output] ("sequence") or [batch][output] ("last").
    case values(UnsafeBufferPointer<Float>)
    /// One class index per target position: [batch][steps] or [batch].
    case labels(UnsafeBufferPointer<Int32>)
}

public final class Trainer {
    public let model: Model
    public let config: TrainerConfig
    public let kernels: KernelSet
    /// dL/d(parameters), laid out exactly like `model.parameters`.
    let gradients: FloatBuffer
    /// SGD's momentum buffer, or Adam's first moment.
    private let moment1: FloatBuffer
    /// Adam's second moment (unused by SGD).
    private let moment2: FloatBuffer
    /// Parameter-buffer ranges of the layers that are not frozen.
    let trainableRanges: [Range<Int>]
    /// Transposed copies of the weights the backward pass multiplies by
    /// (W_ih and W_hh with inputs and outputs swapped, in the panel layout),
    /// refreshed from the weights at each step.
    private let transposed: FloatBuffer
    private let transposedOffsets: [(input: Int, recurrent: Int)]
    /// Optimizer steps taken so far.
    public private(set) var stepCount = 0
    /// Global L2 norm of the last step's gradient, before clipping.
    public private(set) var lastGradientNorm: Float = 0

    private var tape: Tape? = nil
    /// Worker threads, when more than one thread is asked for.
    private var pool: WorkerPool? = nil

    /// Threads a step uses (1 unless `setThreads` asked for more).
    public var threads: Int { pool?.count ?? 1 }

    /// Splits every later step over `count` threads (1: no threads, the
    /// default): the passes through time by sequences, the weight gradients
    /// by output columns. Every gradient element is still one sum over the
    /// sequences in order, computed by one thread: the results are
    /// bit-identical to one thread's, whatever the count.
    public func setThreads(_ count: Int) throws(RecurError) {
        guard count >= 1 && count <= 256 else {
            throw .invalidArgument("threads is \(count): expected 1 to 256")
        }
        pool = count == 1 ? nil : try WorkerPool(count: count)
    }
    /// A copy of the parameters and moments taken before each update.
    private var backup: FloatBuffer? = nil
    /// The buffers an update changes: parameters and the optimizer's moments.
    private lazy var updatedBuffers: [FloatBuffer] = [model.parameters, moment1, moment2].filter { $0.count > 0 }
    /// Stateful training: each stream's final state, carried into the next step.
    private var carried: FloatBuffer? = nil
    private var carriedBatch = 0
    /// Whether `carried` holds a state yet (it is allocated before the
    /// first step of a batch size, so that keeping it cannot fail).
    private var hasCarriedState = false

    public init(model: Model, config: TrainerConfig, kernels: KernelSet = .active) throws(RecurError) {
        self.model = model
        self.config = config
        self.kernels = kernels
        let size = model.parameters.count
        gradients = try FloatBuffer(count: size)
        moment1 = try FloatBuffer(count: config.optimizer.kind == .sgd && config.optimizer.momentum == 0 ? 0 : size)
        moment2 = try FloatBuffer(count: config.optimizer.kind == .sgd ? 0 : size)
        trainableRanges = model.layers.indices.filter { !config.frozenLayers.contains($0) }.map { model.layers[$0].parameterRange }
        var offsets: [(input: Int, recurrent: Int)] = []
        var total = 0
        for layer in model.layers {
            let input = total
            total += layer.width * padded(layer.inputSize)
            let recurrent = total
            if layer.kind.isRecurrent { total += layer.width * layer.paddedOutput }
            offsets.append((input, recurrent))
        }
        transposed = try FloatBuffer(count: total)
        transposedOffsets = offsets
    }

    /// Parses `json` as a trainer configuration for `model`.
    public convenience init(model: Model, configJSON json: UnsafeRawBufferPointer, kernels: KernelSet = .active) throws(RecurError) {
        try self.init(model: model, config: try TrainerConfig.parse(json: json, for: model), kernels: kernels)
    }

    /// Parses `text` as a trainer configuration for `model`; "" means the defaults.
    public convenience init(model: Model, configText text: String, kernels: KernelSet = .active) throws(RecurError) {
        let bytes = Array((text.isEmpty ? "{}" : text).utf8)
        try self.init(model: model, config: try withBytes(bytes) { (raw) throws(RecurError) in try TrainerConfig.parse(json: raw, for: model) },
                      kernels: kernels)
    }

    /// Forgets the carried state of stateful training: the next step starts
    /// every stream from zeros.
    public func resetState() {
        carried = nil
        carriedBatch = 0
        hasCarriedState = false
    }

    /// One training step on `input` ([batch][steps][input]); returns the
    /// loss before the update.
    @discardableResult
    public func step(input: UnsafeBufferPointer<Float>, batch: Int, steps: Int,
                     targets: TrainingTargets) throws(RecurError) -> Float {
        try validate(input: input, batch: batch, steps: steps, targets: targets)
        if tape?.batch != batch || tape?.steps != steps {
            tape = try Tape(model: model, batch: batch, steps: steps)
        }
        if config.stateful && (carried == nil || carriedBatch != batch) {
            carried = try FloatBuffer(count: batch * model.paddedStateSize)
            carriedBatch = batch
            hasCarriedState = false
        }
        guard let tape, let x = input.baseAddress else { throw RecurError(.internal, "no tape") }

        // Initial state: zeros, or the carried state of stateful training.
        if config.stateful, hasCarriedState, let carried {
            tape.state.base.update(from: carried.base, count: batch * model.paddedStateSize)
        } else {
            tape.state.zero()
        }

        // A stream's forward and backward floats do not depend on the other
        // streams (the kernels' promise), and each gradient element is summed
        // over the streams in order by one thread (`accumulateGradients`):
        // the same bits with any thread count.
        if let pool {
            let parts = pool.count
            pool.run { part in self.forward(x, tape, streams: WorkerPool.split(batch, parts, part)) }
        } else {
            forward(x, tape, streams: 0..<batch)
        }
        let loss = computeLoss(targets, tape)
        refreshTransposed()
        gradients.zero()
        backward(x, tape)

        // Check everything before changing anything.
        var sum = 0.0
        for range in trainableRanges {
            for i in range { sum += Double(gradients.base[i]) * Double(gradients.base[i]) }
        }
        let norm = sum.squareRoot()
        lastGradientNorm = Float(norm)
        guard loss.isFinite else {
            throw RecurError(.numeric, "the loss is \(loss): nothing was updated")
        }
        guard norm.isFinite else {
            throw RecurError(.numeric, "the gradient of \(firstNonFiniteGradient()) is not finite: nothing was updated")
        }

        // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6)
        // when that is below 1. The optimizer applies the scale, so that
        // `gradients` keeps the unclipped gradient.
        var scale: Float = 1
        if let maximum = config.clipGradientNorm {
            scale = min(1, Float(Double(maximum) / (norm + 1e-6)))
        }
        try update(gradientScale: scale)
        if config.stateful { keepFinalState(tape, batch: batch) }
        return Float(loss)
    }

    // MARK: Forward, loss, backward

    /// This layer's input at (stream, step): the model's input, or the
    /// outputs of the layer below (slot t + 1 of its tape).
    private func layerInput(_ index: Int, _ x: UnsafePointer<Float>, _ tape: Tape) -> (base: UnsafePointer<Float>, streamStride: Int, stepStride: Int) {
        if index == 0 { return (x, tape.steps * model.inputSize, model.inputSize) }
        let width = model.layers[index - 1].paddedOutput
        return (UnsafePointer(tape.outputs[index - 1].base + width), (tape.steps + 1) * width, width)
    }

    private func forward(_ x: UnsafePointer<Float>, _ tape: Tape, streams: Range<Int>) {
        let p = UnsafePointer(model.parameters.base)
        let k = kernels
        let steps = tape.steps
        let first = streams.lowerBound, count = streams.count
        guard count > 0 else { return }
        let stateStride = model.paddedStateSize
        for (index, layer) in model.layers.enumerated() {
            let input = layerInput(index, x, tape)
            let outWidth = layer.paddedOutput, width = layer.width, recordSize = layer.recordSize
            let outputs = tape.outputs[index].base, records = tape.records[index].base
            let outStreamStride = (steps + 1) * outWidth, recordStreamStride = (steps + 1) * recordSize
            let biasIH = layer.inputBiasOffset.map { p + $0 }, biasHH = layer.recurrentBiasOffset.map { p + $0 }

            if layer.kind == .dense {
                for stream in streams {
                    let values = outputs + stream * outStreamStride + outWidth
                    k.project(steps, layer.inputSize, width, p + layer.inputWeightOffset,
                              input.base + stream * input.streamStride, input.stepStride, values, outWidth)
                    k.denseForward(steps, layer.outputSize, width, layer.activation.code, values, outWidth, biasIH,
                                   records + stream * recordStreamStride + recordSize, recordSize)
                }
                continue
            }
            let ax = tape.inputProjections.base, ah = tape.stateProjections.base
            let widest = tape.widest, axStream = steps * widest
            for stream in streams {
                k.project(steps, layer.inputSize, width, p + layer.inputWeightOffset,
                          input.base + stream * input.streamStride, input.stepStride, ax + stream * axStream, width)
            }
            // Slot 0 of the tape: the initial h (and c, where an LSTM's record keeps c).
            let state = tape.state.base + model.paddedStateOffsets[index]
            for stream in streams {
                (outputs + stream * outStreamStride).update(from: state + stream * stateStride, count: outWidth)
                if layer.kind == .lstm {
                    (records + stream * recordStreamStride + 4 * outWidth).update(from: state + stream * stateStride + outWidth, count: outWidth)
                }
            }
            let firstState = state + first * stateStride, ahFirst = ah + first * widest
            for t in 0..<steps {
                k.project(count, layer.outputSize, width, p + layer.recurrentWeightOffset, firstState, stateStride, ahFirst, widest)
                let axStep = ax + first * axStream + t * width
                let outStep = outputs + first * outStreamStride + (t + 1) * outWidth
                let recordStep = records + first * recordStreamStride + (t + 1) * recordSize
                switch layer.kind {
                case .lstm:
                    k.lstmForward(count, outWidth, axStep, axStream, ahFirst, widest, biasIH, biasHH,
                                  firstState, stateStride, outStep, outStreamStride, recordStep, recordStreamStride)
                case .gru:
                    k.gruForward(count, outWidth, axStep, axStream, ahFirst, widest, biasIH, biasHH,
                                 firstState, stateStride, outStep, outStreamStride, recordStep, recordStreamStride)
                default:
                    k.rnnForward(count, outWidth, layer.activation == .relu, axStep, axStream, ahFirst, widest,
                                 biasIH, biasHH, firstState, stateStride, outStep, outStreamStride)
                }
            }
        }
    }

    private func computeLoss(_ targets: TrainingTargets, _ tape: Tape) -> Double {
        let last = model.layers.count - 1
        let width = model.outputSize, steps = tape.steps, padded = model.layers[last].paddedOutput
        let onLogits = config.loss != .mse
        let predictions = onLogits ? tape.records[last].base : tape.outputs[last].base
        let slot = onLogits ? model.layers[last].recordSize : padded
        let outputGradient = tape.outputGradients[last]
        outputGradient.zero()
        let everyStep = config.targets == .sequence
        let values: TargetValues
        switch targets {
        case .values(let buffer): values = .values(buffer.baseAddress!)
        case .labels(let buffer): values = .labels(buffer.baseAddress!)
        }
        // Target position k is (stream k / steps, step k % steps) for
        // "sequence", (stream k, the last step) for "last".
        return LossFunction.evaluate(config.loss, positions: everyStep ? tape.batch * steps : tape.batch, width: width,
                                     targets: values,
                                     prediction: { k in
                                         let (b, t) = everyStep ? (k / steps, k % steps) : (k, steps - 1)
                                         return UnsafePointer(predictions + (b * (steps + 1) + t + 1) * slot)
                                     },
                                     gradient: { k in
                                         let (b, t) = everyStep ? (k / steps, k % steps) : (k, steps - 1)
                                         return outputGradient.base + (b * steps + t) * padded
                                     })
    }

    /// Layer by layer from the head: the pass back through time (threads
    /// take sequences), then the layer's weight gradients (threads take
    /// output columns), before the next layer reuses the gate gradients.
    private func backward(_ x: UnsafePointer<Float>, _ tape: Tape) {
        // The lowest layer that trains: below it, no gradient is needed.
        guard let lowest = model.layers.indices.first(where: { !config.frozenLayers.contains($0) }) else { return }
        let batch = tape.batch
        for index in stride(from: model.layers.count - 1, through: lowest, by: -1) {
            let trains = !config.frozenLayers.contains(index)
            if let pool {
                let parts = pool.count
                pool.run { part in self.backwardThroughTime(index, lowest: lowest, tape, streams: WorkerPool.split(batch, parts, part)) }
                if trains { pool.run { part in self.accumulateGradients(index, x, tape, part: part, of: parts) } }
            } else {
                backwardThroughTime(index, lowest: lowest, tape, streams: 0..<batch)
                if trains { accumulateGradients(index, x, tape, part: 0, of: 1) }
            }
        }
    }

    /// Layer `index`'s gate gradients (into the tape) and, above the lowest
    /// trainable layer, the gradient of its input, for some streams.
    private func backwardThroughTime(_ index: Int, lowest: Int, _ tape: Tape, streams: Range<Int>) {
        let k = kernels
        let steps = tape.steps
        let first = streams.lowerBound, count = streams.count
        guard count > 0 else { return }
        let last = model.layers.count - 1
        let layer = model.layers[index]
        let outWidth = layer.paddedOutput, width = layer.width, recordSize = layer.recordSize
        let outputs = tape.outputs[index].base, records = tape.records[index].base
        let outStreamStride = (steps + 1) * outWidth, recordStreamStride = (steps + 1) * recordSize
        let dOut = tape.outputGradients[index].base
        let widest = tape.widest, gStream = steps * widest, carryStride = tape.widestOutput
        let inputSide = tape.gateGradients.base
        let stateSide = layer.kind == .gru ? tape.stateGateGradients.base : inputSide

        if layer.kind == .dense {
            for stream in streams {
                k.denseBackward(steps, width, layer.activation.code, index != last || config.loss == .mse,
                                dOut + stream * steps * outWidth, outWidth,
                                outputs + stream * outStreamStride + outWidth, outWidth,
                                inputSide + stream * gStream, width)
            }
        } else {
            let carryH = tape.carryH.base + first * carryStride, carryC = tape.carryC.base + first * carryStride
            carryH.update(repeating: 0, count: count * carryStride)
            carryC.update(repeating: 0, count: count * carryStride)
            let dOutFirst = dOut + first * steps * outWidth
            let recordsFirst = records + first * recordStreamStride, outputsFirst = outputs + first * outStreamStride
            let squares = tape.hiddenGradientSquares[index].base
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let dOutStep = dOutFirst + t * outWidth
                let gx = inputSide + first * gStream + t * width, gh = stateSide + first * gStream + t * width
                // |dL/dh_t|^2 per stream: how much gradient reaches step t.
                for s in 0..<count {
                    var sum: Float = 0
                    for j in 0..<layer.outputSize {
                        let g = dOutStep[s * steps * outWidth + j] + carryH[s * carryStride + j]
                        sum += g * g
                    }
                    squares[(first + s) * steps + t] = sum
                }
                switch layer.kind {
                case .lstm:
                    k.lstmBackward(count, outWidth, dOutStep, steps * outWidth, carryH, carryC, carryStride,
                                   recordsFirst + (t + 1) * recordSize, recordsFirst + t * recordSize, recordStreamStride,
                                   gx, gStream)
                case .gru:
                    k.gruBackward(count, outWidth, dOutStep, steps * outWidth, carryH, carryStride,
                                  recordsFirst + (t + 1) * recordSize, recordStreamStride,
                                  outputsFirst + t * outWidth, outStreamStride, gx, gh, gStream)
                default:
                    k.rnnBackward(count, outWidth, layer.activation == .relu, dOutStep, steps * outWidth, carryH, carryStride,
                                  outputsFirst + (t + 1) * outWidth, outStreamStride, gx, gStream)
                }
                // dL/dh_t-1 += W_hh^T (state side), as a forward product
                // over the transposed weights (the fast, batched kernel).
                let recurrentT = transposed.base + transposedOffsets[index].recurrent
                if layer.kind == .gru {
                    let temporary = tape.carryTemporary.base + first * carryStride
                    k.project(count, width, outWidth, recurrentT, gh, gStream, temporary, carryStride)
                    for s in 0..<count {
                        for j in 0..<outWidth { carryH[s * carryStride + j] += temporary[s * carryStride + j] }
                    }
                } else {
                    k.project(count, width, outWidth, recurrentT, gh, gStream, carryH, carryStride)
                }
            }
        }

        if index > lowest {
            let below = model.layers[index - 1].paddedOutput
            let dInput = tape.outputGradients[index - 1].base
            let inputT = transposed.base + transposedOffsets[index].input
            for stream in streams {
                k.project(steps, width, below, inputT, inputSide + stream * gStream, width, dInput + stream * steps * below, below)
            }
        }
    }

    /// Layer `index`'s weight and bias gradients from the gate gradients on
    /// the tape: output columns (whole panels) split `parts` ways, this call
    /// doing part `part`. Each element is summed over the streams in order
    /// (each stream's sum over steps, then added): the same chain of floats
    /// however the columns are split.
    private func accumulateGradients(_ index: Int, _ x: UnsafePointer<Float>, _ tape: Tape, part: Int, of parts: Int) {
        let k = kernels, layer = model.layers[index]
        let steps = tape.steps, width = layer.width
        let panels = WorkerPool.split((width + panelWidth - 1) / panelWidth, parts, part)
        let start = panels.lowerBound * panelWidth, end = min(panels.upperBound * panelWidth, width)
        guard start < end else { return }
        let columns = end - start
        let g = gradients.base
        let input = layerInput(index, x, tape)
        let outWidth = layer.paddedOutput, outStreamStride = (steps + 1) * outWidth
        let outputs = tape.outputs[index].base
        let gStream = steps * tape.widest
        let inputSide = tape.gateGradients.base + start
        let stateSide = (layer.kind == .gru ? tape.stateGateGradients.base : tape.gateGradients.base) + start
        for stream in 0..<tape.batch {
            k.accumulateWeightGradient(steps, layer.inputSize, columns, input.base + stream * input.streamStride, input.stepStride,
                                       inputSide + stream * gStream, width, g + layer.inputWeightOffset + start * layer.inputSize)
            if layer.kind.isRecurrent {
                // h_t-1 of step t is slot t of the tape.
                k.accumulateWeightGradient(steps, layer.outputSize, columns, outputs + stream * outStreamStride, outWidth,
                                           stateSide + stream * gStream, width, g + layer.recurrentWeightOffset + start * layer.outputSize)
            }
        }
        for stream in 0..<tape.batch {
            if let offset = layer.inputBiasOffset { k.accumulateRows(steps, columns, inputSide + stream * gStream, width, g + offset + start) }
            if let offset = layer.recurrentBiasOffset { k.accumulateRows(steps, columns, stateSide + stream * gStream, width, g + offset + start) }
        }
    }

    /// W^T of every weight block the backward pass needs: W_hh of the
    /// recurrent layers from the lowest trainable one up, W_ih of the layers
    /// above it (whose input gradient is needed).
    private func refreshTransposed() {
        guard let lowest = model.layers.indices.first(where: { !config.frozenLayers.contains($0) }) else { return }
        let p = model.parameters.base, t = transposed.base
        for index in lowest..<model.layers.count {
            let layer = model.layers[index], width = layer.width
            if index > lowest {
                Trainer.transpose(p + layer.inputWeightOffset, depth: layer.inputSize, width: width,
                                  into: t + transposedOffsets[index].input)
            }
            if layer.kind.isRecurrent {
                Trainer.transpose(p + layer.recurrentWeightOffset, depth: layer.outputSize, width: width,
                                  into: t + transposedOffsets[index].recurrent)
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

    // MARK: Update

    /// Applies the optimizer to the trainable ranges. An update that would
    /// make a weight or a moment non-finite (a learning rate far too large)
    /// is undone from a copy and refused.
    private func update(gradientScale scale: Float) throws(RecurError) {
        let buffers = updatedBuffers, size = model.parameters.count
        if backup == nil { backup = try FloatBuffer(count: buffers.count * size) }
        guard let backup else { return }
        // Only the trainable ranges change: keep a copy of them, in place.
        func copyTrainable(restoring: Bool) {
            for (n, buffer) in buffers.enumerated() {
                let saved = backup.base + n * size
                for range in trainableRanges {
                    let (from, to) = restoring ? (saved, buffer.base) : (buffer.base, saved)
                    (to + range.lowerBound).update(from: from + range.lowerBound, count: range.count)
                }
            }
        }
        copyTrainable(restoring: false)
        stepCount += 1
        applyOptimizer(gradientScale: scale)
        defer { for range in trainableRanges { model.refreshHalfParameters(range) } }
        let finite = buffers.allSatisfy { buffer in
            trainableRanges.allSatisfy { range in range.allSatisfy { buffer.base[$0].isFinite } }
        }
        guard finite else {
            copyTrainable(restoring: true)
            stepCount -= 1
            throw RecurError(.numeric, "the update would make weights non-finite (learning rate \(config.optimizer.learningRate) is too large for this gradient): nothing was updated")
        }
    }

    private func applyOptimizer(gradientScale scale: Float) {
        let optimizer = config.optimizer
        let p = model.parameters.base, g = UnsafePointer(gradients.base)
        for range in trainableRanges {
            let (start, count) = (range.lowerBound, range.count)
            switch optimizer.kind {
            case .sgd:
                Optimizer.sgd(optimizer, step: stepCount, parameters: p + start, gradients: g + start, scale: scale,
                              momentum: moment1.base + (moment1.count == 0 ? 0 : start), count: count)
            case .adam, .adamw:
                Optimizer.adam(optimizer, step: stepCount, decoupled: optimizer.kind == .adamw,
                               parameters: p + start, gradients: g + start, scale: scale,
                               firstMoment: moment1.base + start, secondMoment: moment2.base + start, count: count)
            }
        }
    }

    private func keepFinalState(_ tape: Tape, batch: Int) {
        carried?.base.update(from: tape.state.base, count: batch * model.paddedStateSize)
        hasCarriedState = true
    }

    /// For each time step t of the last training step, the L2 norm over the
    /// batch of dL/dh_t of recurrent layer `layer`: how much gradient reaches
    /// step t (vanishing or exploding gradients, measured). Zeros for a layer
    /// below the lowest trainable one, or before the first step.
    public func hiddenGradientNorms(layer: Int, into out: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        guard layer >= 0 && layer < model.layers.count, model.layers[layer].kind.isRecurrent else {
            throw .invalidArgument("layer \(layer) is not a recurrent layer of this model")
        }
        guard let tape else {
            out.update(repeating: 0)
            return
        }
        guard out.count == tape.steps else {
            throw .shape("count is \(out.count), the last step had \(tape.steps) time steps")
        }
        let squares = tape.hiddenGradientSquares[layer].base
        for t in 0..<tape.steps {
            var total = 0.0
            for stream in 0..<tape.batch { total += Double(squares[stream * tape.steps + t]) }
            out[t] = Float(total.squareRoot())
        }
    }

    /// Copies the last step's gradient of a tensor (before clipping) out,
    /// row-major; zeros for a frozen layer or before the first step.
    public func getGradient(layer: Int, name: String, into out: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        try Model.copy(try model.slot(layer: layer, tensor: name), from: gradients, into: out)
    }

    // MARK: Checks

    private func validate(input: UnsafeBufferPointer<Float>, batch: Int, steps: Int,
                          targets: TrainingTargets) throws(RecurError) {
        guard batch >= 1 else { throw .invalidArgument("batch is \(batch): at least one sequence is needed") }
        guard steps >= 1 else { throw .invalidArgument("steps is \(steps): at least one step is needed") }
        let (positions, overflow) = batch.multipliedReportingOverflow(by: steps)
        guard !overflow, positions <= ModelLimits.maximumParameters / max(1, model.inputSize, model.outputSize) else {
            throw .shape("batch \(batch) x steps \(steps) is too large")
        }
        if config.stateful, hasCarriedState, carriedBatch != batch {
            throw .shape("batch is \(batch), but this stateful trainer carries the state of \(carriedBatch) streams (reset its state to change the batch)")
        }
        guard input.count == positions * model.inputSize, let x = input.baseAddress else {
            throw .shape("x has \(input.count) floats, batch \(batch) x steps \(steps) x input size \(model.inputSize) needs \(positions * model.inputSize)")
        }
        for i in 0..<input.count where !x[i].isFinite {
            let size = model.inputSize
            throw RecurError(.numeric, "x[\(i / (steps * size))][\(i / size % steps)][\(i % size)] is \(x[i]), not a finite number: nothing was updated")
        }
        let targetPositions = config.targets == .sequence ? positions : batch
        let layout = config.targets == .sequence ? "[batch][steps]" : "[batch]"
        switch targets {
        case .values(let buffer):
            let needed = targetPositions * model.outputSize
            guard buffer.count == needed, let t = buffer.baseAddress else {
                throw .shape("target has \(buffer.count) floats, \(layout)[output] = \(needed) needed for \"targets\": \"\(config.targets.rawValue)\"")
            }
            for i in 0..<needed where !t[i].isFinite {
                throw RecurError(.numeric, "target[\(i)] is \(t[i]), not a finite number: nothing was updated")
            }
        case .labels(let buffer):
            guard config.loss == .crossEntropy else {
                throw .invalidArgument("labels need \"loss\": \"cross_entropy\", this trainer's loss is \(config.loss.rawValue)")
            }
            guard buffer.count == targetPositions, let labels = buffer.baseAddress else {
                throw .shape("labels has \(buffer.count) entries, \(layout) = \(targetPositions) needed for \"targets\": \"\(config.targets.rawValue)\"")
            }
            for i in 0..<targetPositions where labels[i] < 0 || Int(labels[i]) >= model.outputSize {
                throw .invalidArgument("labels[\(i)] is \(labels[i]), not a class of this model (0 to \(model.outputSize - 1))")
            }
        }
    }

    private func firstNonFiniteGradient() -> String {
        for (index, layer) in model.layers.enumerated() {
            for slot in layer.tensors {
                for row in 0..<slot.rows {
                    for column in 0..<slot.columns where !gradients.base[slot.index(row: row, column: column)].isFinite {
                        return "layers[\(index)].\(slot.name)"
                    }
                }
            }
        }
        return "the model"
    }
}

/// Everything one training step of a given batch and length records and
/// works in: allocated when the trainer first sees that size, then reused.
/// Per-position buffers of a layer have `steps + 1` slots per stream: slot 0
/// holds the initial state, slot t + 1 step t.
final class Tape {
    let batch: Int
    let steps: Int
    /// Per layer: [batch][steps + 1][paddedOutput]; slot 0 = initial h.
    let outputs: [FloatBuffer]
    /// Per layer: [batch][steps + 1][recordSize]; an LSTM's slot 0 holds the initial c.
    let records: [FloatBuffer]
    /// Per layer: dL/d(output), [batch][steps][paddedOutput].
    let outputGradients: [FloatBuffer]
    /// Per recurrent layer: |dL/dh_t|^2 of each stream and step, [batch][steps].
    let hiddenGradientSquares: [FloatBuffer]
    /// Each stream's state while the forward pass runs: initial, then final.
    let state: FloatBuffer
    /// W_ih x of every position, [batch][steps][width], and W_hh h of every stream.
    let inputProjections: FloatBuffer
    let stateProjections: FloatBuffer
    /// Pre-activation gradients of every position, [batch][steps][width]; a
    /// GRU's state side differs from its input side and has its own buffer.
    let gateGradients: FloatBuffer
    let stateGateGradients: FloatBuffer
    /// dL/dh and dL/dc flowing back in time, [batch][paddedOutput].
    let carryH: FloatBuffer
    let carryC: FloatBuffer
    /// Room for a GRU's W_hh^T product before it joins the carry.
    let carryTemporary: FloatBuffer
    /// Per-stream strides of the buffers above that all layers share: the
    /// widest layer's, so threads on different layers never share a row.
    let widest: Int
    let widestOutput: Int

    init(model: Model, batch: Int, steps: Int) throws(RecurError) {
        self.batch = batch
        self.steps = steps
        var outputs: [FloatBuffer] = [], records: [FloatBuffer] = [], gradients: [FloatBuffer] = [], squares: [FloatBuffer] = []
        for layer in model.layers {
            squares.append(try FloatBuffer(count: layer.kind.isRecurrent ? batch * steps : 0))
            outputs.append(try FloatBuffer(count: batch * (steps + 1) * layer.paddedOutput))
            records.append(try FloatBuffer(count: batch * (steps + 1) * layer.recordSize))
            gradients.append(try FloatBuffer(count: batch * steps * layer.paddedOutput))
        }
        self.outputs = outputs
        self.records = records
        self.outputGradients = gradients
        self.hiddenGradientSquares = squares
        widest = model.layers.map(\.width).max() ?? 0
        widestOutput = model.layers.map(\.paddedOutput).max() ?? 0
        state = try FloatBuffer(count: batch * model.paddedStateSize)
        inputProjections = try FloatBuffer(count: batch * steps * widest)
        stateProjections = try FloatBuffer(count: batch * widest)
        gateGradients = try FloatBuffer(count: batch * steps * widest)
        stateGateGradients = try FloatBuffer(count: model.layers.contains { $0.kind == .gru } ? batch * steps * widest : 0)
        carryH = try FloatBuffer(count: batch * widestOutput)
        carryC = try FloatBuffer(count: batch * widestOutput)
        carryTemporary = try FloatBuffer(count: model.layers.contains { $0.kind == .gru } ? batch * widestOutput : 0)
    }
}
