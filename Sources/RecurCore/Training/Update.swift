// The update of a training step, as a transaction: copy what the optimizer
// will change, apply it, and undo it from the copy when it would make a
// weight or a moment non-finite. The optimizers themselves are pure
// functions over flat arrays (Optimizer.swift).

final class ParameterUpdate {
    let model: Model
    let optimizer: OptimizerConfig
    /// Parameter-buffer ranges of the layers that are not frozen: the only
    /// ones an update changes.
    let trainableRanges: [Range<Int>]
    /// SGD's momentum buffer, or Adam's first moment.
    private let moment1: FloatBuffer
    /// Adam's second moment (unused by SGD).
    private let moment2: FloatBuffer
    /// A copy of the trainable ranges of the parameters and moments, taken
    /// before each update; allocated on the first.
    private var backup: FloatBuffer? = nil
    /// Optimizer steps taken so far.
    private(set) var stepCount = 0
    /// The buffers an update changes: parameters and the optimizer's moments.
    private let updatedBuffers: [FloatBuffer]

    init(model: Model, optimizer: OptimizerConfig, frozenLayers: Set<Int>) throws(RecurError) {
        self.model = model
        self.optimizer = optimizer
        let size = model.parameters.count
        moment1 = try FloatBuffer(count: optimizer.kind == .sgd && optimizer.momentum == 0 ? 0 : size)
        moment2 = try FloatBuffer(count: optimizer.kind == .sgd ? 0 : size)
        trainableRanges = model.layers.indices.filter { !frozenLayers.contains($0) }.map { model.layers[$0].parameterRange }
        updatedBuffers = [model.parameters, moment1, moment2].filter { $0.count > 0 }
    }

    /// Takes over another update's optimizer state (moments and step count):
    /// the same optimizer over a model of the same layout.
    func copyState(from other: ParameterUpdate) {
        moment1.base.update(from: other.moment1.base, count: min(moment1.count, other.moment1.count))
        moment2.base.update(from: other.moment2.base, count: min(moment2.count, other.moment2.count))
        stepCount = other.stepCount
    }

    /// Allocates the backup now, so that a later update cannot fail for memory.
    func prepare() throws(RecurError) {
        if backup == nil { backup = try FloatBuffer(count: updatedBuffers.count * model.parameters.count) }
    }

    /// Applies the optimizer to the trainable ranges, with the gradient
    /// scaled by `scale` (clipping). An update that would make a weight or
    /// a moment non-finite (a learning rate far too large) is undone from
    /// the copy and refused.
    func apply(gradients: FloatBuffer, scale: Float) throws(RecurError) {
        try prepare()
        guard let backup else { return }
        let buffers = updatedBuffers, size = model.parameters.count
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
        applyOptimizer(gradients: gradients, scale: scale)
        defer { for range in trainableRanges { model.refreshHalfParameters(range) } }
        let finite = buffers.allSatisfy { buffer in
            trainableRanges.allSatisfy { range in range.allSatisfy { buffer.base[$0].isFinite } }
        }
        guard finite else {
            copyTrainable(restoring: true)
            stepCount -= 1
            throw RecurError(.numeric, "the update would make weights non-finite (learning rate \(optimizer.learningRate) is too large for this gradient): nothing was updated")
        }
        // With fp16 inference copies, every weight must stay within fp16's range.
        if model.weightStorage == .fp16, let (index, value) = firstBeyondHalfRange() {
            copyTrainable(restoring: true)
            stepCount -= 1
            throw RecurError(.numeric, "the update would make \(model.describe(parameterIndex: index)) \(value), beyond the fp16 range of the model's fp16 weights (65504): nothing was updated")
        }
    }

    /// The first trainable weight beyond fp16's largest finite value, if any.
    private func firstBeyondHalfRange() -> (Int, Float)? {
        let p = model.parameters.base
        for range in trainableRanges {
            for i in range where abs(p[i]) > 65504 { return (i, p[i]) }
        }
        return nil
    }

    private func applyOptimizer(gradients: FloatBuffer, scale: Float) {
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
}
