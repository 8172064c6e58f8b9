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
    /// dL/d(parameters), laid out exactly like `model.parameters`.
    let gradients: FloatBuffer
    /// SGD's momentum buffer, or Adam's first moment.
    private let moment1: FloatBuffer
    /// Adam's second moment (unused by SGD).
    private let moment2: FloatBuffer
    /// Parameter-buffer ranges of the layers that are not frozen.
    let trainableRanges: [Range<Int>]
    /// Optimizer steps taken so far.
    public private(set) var stepCount = 0
    /// Global L2 norm of the last step's gradient, before clipping.
    public private(set) var lastGradientNorm: Float = 0

    private var tape: Tape? = nil
    /// A copy of the parameters and moments taken before each update.
    private var backup: FloatBuffer? = nil
    /// Stateful training: each stream's final state, carried into the next step.
    private var carried: FloatBuffer? = nil
    private var carriedBatch = 0

    public init(model: Model, config: TrainerConfig) throws(RecurError) {
        self.model = model
        self.config = config
        let size = model.parameters.count
        gradients = try FloatBuffer(count: size)
        moment1 = try FloatBuffer(count: config.optimizer.kind == .sgd && config.optimizer.momentum == 0 ? 0 : size)
        moment2 = try FloatBuffer(count: config.optimizer.kind == .sgd ? 0 : size)
        var ranges: [Range<Int>] = []
        for (index, layer) in model.layers.enumerated() where !config.frozenLayers.contains(index) {
            let end = index + 1 < model.layers.count ? model.layers[index + 1].weightOffset : size
            ranges.append(layer.weightOffset ..< end)
        }
        trainableRanges = ranges
    }

    /// Parses `json` as a trainer configuration for `model`.
    public convenience init(model: Model, configJSON json: UnsafeRawBufferPointer) throws(RecurError) {
        try self.init(model: model, config: try TrainerConfig.parse(json: json, for: model))
    }

    /// Parses `text` as a trainer configuration for `model`; "" means the defaults.
    public convenience init(model: Model, configText text: String) throws(RecurError) {
        let bytes = Array((text.isEmpty ? "{}" : text).utf8)
        try self.init(model: model, config: try withBytes(bytes) { (raw) throws(RecurError) in try TrainerConfig.parse(json: raw, for: model) })
    }

    /// Forgets the carried state of stateful training: the next step starts
    /// every stream from zeros.
    public func resetState() {
        carried = nil
        carriedBatch = 0
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
        guard let tape, let x = input.baseAddress else { throw RecurError(.internal, "no tape") }

        // Initial state: zeros, or the carried state of stateful training.
        for index in model.layers.indices where model.layers[index].kind.isRecurrent {
            tape.initial[index].zero()
        }
        if config.stateful, let carried {
            for index in model.layers.indices where model.layers[index].kind.isRecurrent {
                let size = model.layers[index].stateSize
                for stream in 0..<batch {
                    (tape.initial[index].base + stream * size)
                        .update(from: carried.base + stream * model.stateSize + model.stateOffsets[index], count: size)
                }
            }
        }

        forward(x, tape)
        let loss = computeLoss(targets, tape)
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

    private func forward(_ x: UnsafePointer<Float>, _ tape: Tape) {
        let p = UnsafePointer(model.parameters.base)
        let (batch, steps) = (tape.batch, tape.steps)
        for (index, layer) in model.layers.enumerated() {
            let inputSize = layer.inputSize, outputSize = layer.outputSize
            let inputs = index == 0 ? x : UnsafePointer(tape.outputs[index - 1].base)
            let outputs = tape.outputs[index].base, records = tape.records[index].base
            for stream in 0..<batch {
                let state = tape.state.base
                if layer.kind.isRecurrent {
                    state.update(from: tape.initial[index].base + stream * layer.stateSize, count: layer.stateSize)
                }
                for t in 0..<steps {
                    let position = stream * steps + t
                    let input = inputs + position * inputSize, output = outputs + position * outputSize
                    let record = records + position * layer.recordSize
                    switch layer.kind {
                    case .dense:
                        DenseLayer.forward(layer, parameters: p, input: input, output: output, record: record)
                    case .rnn:
                        RNNCell.forward(layer, parameters: p, input: input, state: state, scratch: tape.scratch.base)
                    case .lstm:
                        LSTMCell.forward(layer, parameters: p, input: input, state: state, scratch: tape.scratch.base, record: record)
                    case .gru:
                        GRUCell.forward(layer, parameters: p, input: input, state: state, scratch: tape.scratch.base, record: record)
                    }
                    if layer.kind.isRecurrent { output.update(from: state, count: outputSize) }
                }
                if layer.kind.isRecurrent {
                    (tape.final.base + stream * model.stateSize + model.stateOffsets[index]).update(from: state, count: layer.stateSize)
                }
            }
        }
    }

    private func computeLoss(_ targets: TrainingTargets, _ tape: Tape) -> Double {
        let last = model.layers.count - 1
        let width = model.outputSize, steps = tape.steps
        let onLogits = config.loss != .mse
        let predictions = onLogits ? tape.records[last].base : tape.outputs[last].base
        let outputGradient = tape.outputGradients[last]
        outputGradient.zero()
        let everyStep = config.targets == .sequence
        // Target position k -> (stream, step) position in the tape.
        let position: (Int) -> Int = everyStep ? { $0 } : { $0 * steps + steps - 1 }
        let values: TargetValues
        switch targets {
        case .values(let buffer): values = .values(buffer.baseAddress!)
        case .labels(let buffer): values = .labels(buffer.baseAddress!)
        }
        return LossFunction.evaluate(config.loss, positions: everyStep ? tape.batch * steps : tape.batch, width: width,
                                     targets: values,
                                     prediction: { UnsafePointer(predictions + position($0) * width) },
                                     gradient: { outputGradient.base + position($0) * width })
    }

    private func backward(_ x: UnsafePointer<Float>, _ tape: Tape) {
        let p = UnsafePointer(model.parameters.base)
        let (batch, steps) = (tape.batch, tape.steps)
        let last = model.layers.count - 1
        // The lowest layer that trains: below it, no gradient is needed.
        guard let lowest = model.layers.indices.first(where: { !config.frozenLayers.contains($0) }) else { return }
        for index in stride(from: last, through: lowest, by: -1) {
            let layer = model.layers[index]
            let g: UnsafeMutablePointer<Float>? = config.frozenLayers.contains(index) ? nil : gradients.base
            let wantInputGradient = index > lowest
            let inputs = index == 0 ? x : UnsafePointer(tape.outputs[index - 1].base)
            let (inputSize, outputSize) = (layer.inputSize, layer.outputSize)
            let outputs = tape.outputs[index].base, records = tape.records[index].base
            let outputGradients = tape.outputGradients[index].base
            let inputGradients: UnsafeMutablePointer<Float>? = wantInputGradient ? tape.outputGradients[index - 1].base : nil

            if layer.kind == .dense {
                let throughActivation = index != last || config.loss == .mse
                for position in 0..<(batch * steps) {
                    DenseLayer.backward(layer, parameters: p, gradients: g,
                                        input: inputs + position * inputSize, output: outputs + position * outputSize,
                                        outputGradient: outputGradients + position * outputSize,
                                        throughActivation: throughActivation,
                                        inputGradient: inputGradients.map { $0 + position * inputSize },
                                        scratch: tape.scratch.base)
                }
                continue
            }

            let stateSize = layer.stateSize
            let carry = tape.carry.base
            let initial = tape.initial[index].base
            for stream in 0..<batch {
                carry.update(repeating: 0, count: stateSize)
                let streamInitial = initial + stream * stateSize
                for t in stride(from: steps - 1, through: 0, by: -1) {
                    let position = stream * steps + t
                    let dOut = outputGradients + position * outputSize
                    for j in 0..<outputSize { carry[j] += dOut[j] }
                    let previousH = t > 0 ? UnsafePointer(outputs + (position - 1) * outputSize) : UnsafePointer(streamInitial)
                    var previousC: UnsafePointer<Float>? = nil
                    if layer.kind == .lstm {
                        previousC = t > 0 ? UnsafePointer(records + (position - 1) * layer.recordSize + 4 * outputSize)
                                          : UnsafePointer(streamInitial + outputSize)
                    }
                    let step = RecurrentBackwardStep(
                        input: inputs + position * inputSize, previousH: previousH, previousC: previousC,
                        output: outputs + position * outputSize, record: records + position * layer.recordSize,
                        carry: carry, inputGradient: inputGradients.map { $0 + position * inputSize },
                        scratch: tape.scratch.base)
                    switch layer.kind {
                    case .rnn: RNNCell.backward(layer, parameters: p, gradients: g, step)
                    case .lstm: LSTMCell.backward(layer, parameters: p, gradients: g, step)
                    case .gru: GRUCell.backward(layer, parameters: p, gradients: g, step)
                    case .dense: break
                    }
                }
            }
        }
    }

    // MARK: Update

    /// Applies the optimizer to the trainable ranges. An update that would
    /// make a weight or a moment non-finite (a learning rate far too large)
    /// is undone from a copy and refused.
    private func update(gradientScale scale: Float) throws(RecurError) {
        let buffers = [model.parameters, moment1, moment2].filter { $0.count > 0 }
        if backup == nil { backup = try FloatBuffer(count: buffers.reduce(0) { $0 + $1.count }) }
        guard let backup else { return }
        var offset = 0
        for buffer in buffers {
            (backup.base + offset).update(from: buffer.base, count: buffer.count)
            offset += buffer.count
        }
        stepCount += 1
        applyOptimizer(gradientScale: scale)
        for buffer in buffers {
            for range in trainableRanges where !range.allSatisfy({ buffer.base[$0].isFinite }) {
                offset = 0
                for buffer in buffers {
                    buffer.base.update(from: backup.base + offset, count: buffer.count)
                    offset += buffer.count
                }
                stepCount -= 1
                throw RecurError(.numeric, "the update would make weights non-finite (learning rate \(config.optimizer.learningRate) is too large for this gradient): nothing was updated")
            }
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
        if carried == nil || carriedBatch != batch {
            carried = try? FloatBuffer(count: batch * model.stateSize)
            carriedBatch = carried == nil ? 0 : batch
        }
        carried?.base.update(from: tape.final.base, count: batch * model.stateSize)
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
        if config.stateful, carried != nil, carriedBatch != batch {
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
final class Tape {
    let batch: Int
    let steps: Int
    /// Per layer: its output at every (stream, step), [batch][steps][output].
    let outputs: [FloatBuffer]
    /// Per layer: what its forward recorded, [batch][steps][recordSize].
    let records: [FloatBuffer]
    /// Per layer: dL/d(output), [batch][steps][output].
    let outputGradients: [FloatBuffer]
    /// Per layer: each stream's initial state, [batch][stateSize].
    let initial: [FloatBuffer]
    /// Each stream's final state, in the model's state layout.
    let final: FloatBuffer
    /// One stream's working state, its backward carry, and cell scratch.
    let state: FloatBuffer
    let carry: FloatBuffer
    let scratch: FloatBuffer

    init(model: Model, batch: Int, steps: Int) throws(RecurError) {
        self.batch = batch
        self.steps = steps
        let positions = batch * steps
        var outputs: [FloatBuffer] = [], records: [FloatBuffer] = [], gradients: [FloatBuffer] = [], initial: [FloatBuffer] = []
        for layer in model.layers {
            outputs.append(try FloatBuffer(count: positions * layer.outputSize))
            records.append(try FloatBuffer(count: positions * layer.recordSize))
            gradients.append(try FloatBuffer(count: positions * layer.outputSize))
            initial.append(try FloatBuffer(count: batch * layer.stateSize))
        }
        self.outputs = outputs
        self.records = records
        self.outputGradients = gradients
        self.initial = initial
        final = try FloatBuffer(count: batch * model.stateSize)
        let largestState = model.layers.map(\.stateSize).max() ?? 0
        state = try FloatBuffer(count: largestState)
        carry = try FloatBuffer(count: largestState)
        scratch = try FloatBuffer(count: model.layers.map(\.scratchSize).max() ?? 0)
    }
}
