// Fine-tuning by backpropagation through time, one step as a transaction:
// validate -> forward over the stack, recording the tape -> loss -> backward
// -> gradient norm and checks -> clip -> update (or undo). Nothing changes
// (weights, optimizer state, carried state) unless the whole step succeeds.
//
// The parts stand alone: Tape.swift (what the forward pass records),
// Stack/StackRunner.swift (the forward pass, shared with inference),
// Loss.swift, Backprop.swift, Update.swift (optimizer and undo),
// Diagnostics.swift, StepChecks.swift (validation).

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
    private let backprop: Backprop
    private let update: ParameterUpdate
    private let diagnostics: HiddenGradientNorms?
    /// Global L2 norm of the last step's gradient, before clipping.
    public private(set) var lastGradientNorm: Float = 0
    /// Optimizer steps taken so far.
    public var stepCount: Int { update.stepCount }

    private var tape: Tape? = nil
    /// Each sequence's length in a step with lengths.
    private var lengthBuffer: IntBuffer? = nil
    /// Worker threads, when more than one thread is asked for.
    private var pool: WorkerPool? = nil
    /// Stateful training: each stream's final state, carried into the next step.
    private var carried: FloatBuffer? = nil
    private(set) var carriedBatch = 0
    /// Whether `carried` holds a state yet (it is allocated before the
    /// first step of a batch size, so that keeping it cannot fail).
    private(set) var hasCarriedState = false

    public init(model: Model, config: TrainerConfig, kernels: KernelSet = .active) throws(RecurError) {
        self.model = model
        self.config = config
        self.kernels = kernels
        gradients = try FloatBuffer(count: model.parameters.count)
        backprop = try Backprop(model: model, kernels: kernels, frozenLayers: config.frozenLayers)
        update = try ParameterUpdate(model: model, optimizer: config.optimizer, frozenLayers: config.frozenLayers)
        diagnostics = config.recordHiddenGradientNorms ? HiddenGradientNorms() : nil
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

    /// A trainer for `model` (this trainer's own model, or a clone of it)
    /// in the same state: configuration, optimizer moments and step count,
    /// carried state, last gradient norm, threads. Later steps of the two
    /// give the same bits, each on its own model.
    public func clone(onto model: Model) throws(RecurError) -> Trainer {
        guard model.parameters.count == self.model.parameters.count, model.layers.count == self.model.layers.count,
              zip(model.layers, self.model.layers).allSatisfy({
                  $0.kind == $1.kind && $0.inputSize == $1.inputSize && $0.hiddenSize == $1.hiddenSize
                      && $0.direction == $1.direction && $0.parameterRange == $1.parameterRange
              }) else {
            throw .invalidArgument("model: a trainer can be cloned only onto its own model or a clone of it (same layers)")
        }
        let copy = try Trainer(model: model, config: config, kernels: kernels)
        copy.update.copyState(from: update)
        copy.lastGradientNorm = lastGradientNorm
        if let carried {
            let buffer = try FloatBuffer(count: carried.count)
            buffer.base.update(from: carried.base, count: carried.count)
            copy.carried = buffer
            copy.carriedBatch = carriedBatch
            copy.hasCarriedState = hasCarriedState
        }
        if threads > 1 { try copy.setThreads(threads) }
        return copy
    }

    /// Threads a step uses (1 unless `setThreads` asked for more).
    public var threads: Int { pool?.count ?? 1 }

    /// Splits the work of every later step over `count` threads (1: no
    /// threads, the default). The results are the same bits with any count.
    public func setThreads(_ count: Int) throws(RecurError) {
        guard count >= 1 && count <= 256 else {
            throw .invalidArgument("threads is \(count): expected 1 to 256")
        }
        pool = count == 1 ? nil : try WorkerPool(count: count)
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
        try step(input: input, batch: batch, steps: steps, lengths: nil, targets: targets)
    }

    /// One training step over sequences of different lengths (`lengths`:
    /// one per sequence, 1 ... steps; nil: all `steps`). Inputs and targets
    /// past a sequence's length are never read.
    @discardableResult
    public func step(input: UnsafeBufferPointer<Float>, batch: Int, steps: Int, lengths: UnsafeBufferPointer<UInt>?,
                     targets: TrainingTargets) throws(RecurError) -> Float {
        guard model.weightStorage != .int8 else {
            throw .model("the model keeps int8 weights, which are for inference: switch it to fp32 or fp16 storage to train (recur_model_set_weight_storage)")
        }
        try validate(input: input, batch: batch, steps: steps, lengths: lengths, targets: targets)
        // Everything the step needs, allocated before anything changes.
        if tape?.batch != batch || tape?.steps != steps {
            tape = try Tape(model: model, kernels: kernels, batch: batch, steps: steps)
        }
        if config.stateful && (carried == nil || carriedBatch != batch) {
            carried = try FloatBuffer(count: batch * model.paddedStateSize)
            carriedBatch = batch
            hasCarriedState = false
        }
        try diagnostics?.prepare(for: model, batch: batch, steps: steps)
        try update.prepare()
        if lengths != nil && lengthBuffer?.count != batch { lengthBuffer = try IntBuffer(count: batch) }
        guard let tape, let x = input.baseAddress else { throw RecurError(.internal, "no tape") }
        tape.lengths = nil
        if let lengths, let lengthBuffer {
            for stream in 0..<batch { lengthBuffer.base[stream] = Int(lengths[stream]) }
            tape.lengths = UnsafePointer(lengthBuffer.base)
        }

        // Initial state: zeros, or the carried state of stateful training.
        if config.stateful, hasCarriedState, let carried {
            tape.state.base.update(from: carried.base, count: batch * model.paddedStateSize)
        } else {
            tape.state.zero()
        }

        // Forward: a stream's floats do not depend on the other streams (the
        // kernels' promise), so the streams may be split over threads.
        let inputStride = steps * model.inputSize
        if let pool {
            let parts = pool.count
            pool.run { part in
                StackRunner.forward(self.model, plan: tape, input: x, inputStreamStride: inputStride,
                                    streams: WorkerPool.split(batch, parts, part), steps: steps)
            }
        } else {
            StackRunner.forward(model, plan: tape, input: x, inputStreamStride: inputStride, streams: 0..<batch, steps: steps)
        }
        let loss = LossFunction.evaluate(config, tape, targets)
        backprop.run(x, tape, throughHeadActivation: config.loss == .mse, pool: pool, diagnostics: diagnostics,
                     into: gradients)

        // Check everything before changing anything.
        var sum = 0.0
        for range in update.trainableRanges {
            for i in range { sum += Double(gradients.base[i]) * Double(gradients.base[i]) }
        }
        let norm = sum.squareRoot()
        lastGradientNorm = Float(norm)
        // Finite in float32 too: the loss is returned, and the gradient
        // applied, as float32.
        guard loss.isFinite, Float(loss).isFinite else {
            throw RecurError(.numeric, "the loss is \(loss), \(loss.isFinite ? "beyond float32's range" : "not finite"): nothing was updated")
        }
        guard norm.isFinite, Float(norm).isFinite else {
            throw RecurError(.numeric, "the gradient of \(firstNonFiniteGradient()) is not finite: nothing was updated")
        }

        // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6)
        // when that is below 1. The optimizer applies the scale, so that
        // `gradients` keeps the unclipped gradient.
        var scale: Float = 1
        if let maximum = config.clipGradientNorm {
            scale = min(1, Float(Double(maximum) / (norm + 1e-6)))
        }
        try update.apply(gradients: gradients, scale: scale)
        if config.stateful {
            carried?.base.update(from: tape.state.base, count: batch * model.paddedStateSize)
            hasCarriedState = true
        }
        return Float(loss)
    }

    // MARK: Reading results

    /// Copies the last step's gradient of a tensor (before clipping) out,
    /// row-major; zeros for a frozen layer or before the first step.
    public func getGradient(layer: Int, name: String, into out: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        try Model.copy(try model.slot(layer: layer, tensor: name), from: gradients, into: out)
    }

    /// For each time step t of the last training step, the L2 norm over the
    /// batch of dL/dh_t of recurrent layer `layer`: how much gradient reaches
    /// step t (vanishing or exploding gradients, measured). Needs
    /// "record_hidden_gradient_norms": true in the configuration. Zeros for a
    /// layer below the lowest trainable one, or before the first step.
    public func hiddenGradientNorms(layer: Int, into out: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        guard layer >= 0 && layer < model.layers.count, model.layers[layer].kind.isRecurrent else {
            throw .invalidArgument("layer \(layer) is not a recurrent layer of this model")
        }
        guard let diagnostics else {
            throw .invalidArgument("hidden gradient norms are not recorded: create the trainer with \"record_hidden_gradient_norms\": true in its configuration")
        }
        if let tape {
            guard out.count == tape.steps else {
                throw .shape("count is \(out.count), the last step had \(tape.steps) time steps")
            }
        }
        diagnostics.norms(layer: layer, into: out)
    }
}
