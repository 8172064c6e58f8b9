// The checks of a trainer step's arguments, all made before anything
// changes, and the names a refused step gives.

extension Trainer {
    /// How many values a step of `batch` sequences of `steps` steps takes:
    /// input floats, target floats, and labels (0 unless the loss is
    /// cross_entropy). Refuses zero sizes and sizes no buffer could hold.
    public func valueCounts(batch: Int, steps: Int) throws(RecurError) -> (input: Int, targets: Int, labels: Int) {
        guard batch >= 1 else { throw .invalidArgument("batch is \(batch): at least one sequence is needed") }
        guard steps >= 1 else { throw .invalidArgument("steps is \(steps): at least one step is needed") }
        let (positions, overflow) = batch.multipliedReportingOverflow(by: steps)
        guard !overflow, positions <= ModelLimits.maximumParameters / max(1, model.inputSize, model.outputSize) else {
            throw .shape("batch \(batch) x steps \(steps) is too large")
        }
        let targetPositions = config.targetPositions(batch: batch, steps: steps)
        return (positions * model.inputSize, targetPositions * model.outputSize,
                config.loss == .crossEntropy ? targetPositions : 0)
    }

    /// One training step over C arrays: `x` holds [batch][steps][input]
    /// floats and `targets` the step's targets (`valueCounts`); with
    /// `lengths` (one per sequence, 1 ... steps), sequence b has only its
    /// first lengths[b] steps: the loss is the mean over valid positions
    /// ("last": each sequence's own last step). Every size is checked here.
    @discardableResult
    public func step(x: UnsafePointer<Float>, batch: Int, steps: Int, lengths: UnsafePointer<UInt>? = nil,
                     targets: UnsafePointer<Float>) throws(RecurError) -> Float {
        let counts = try valueCounts(batch: batch, steps: steps)
        return try step(input: UnsafeBufferPointer(start: x, count: counts.input), batch: batch, steps: steps,
                        lengths: lengths.map { UnsafeBufferPointer(start: $0, count: batch) },
                        targets: .values(UnsafeBufferPointer(start: targets, count: counts.targets)))
    }

    /// The same with class labels ("loss": "cross_entropy").
    @discardableResult
    public func step(x: UnsafePointer<Float>, batch: Int, steps: Int, lengths: UnsafePointer<UInt>? = nil,
                     labels: UnsafePointer<Int32>) throws(RecurError) -> Float {
        let counts = try valueCounts(batch: batch, steps: steps)
        return try step(input: UnsafeBufferPointer(start: x, count: counts.input), batch: batch, steps: steps,
                        lengths: lengths.map { UnsafeBufferPointer(start: $0, count: batch) },
                        targets: .labels(UnsafeBufferPointer(start: labels, count: config.targetPositions(batch: batch, steps: steps))))
    }

    func validate(input: UnsafeBufferPointer<Float>, batch: Int, steps: Int, lengths: UnsafeBufferPointer<UInt>?,
                  targets: TrainingTargets) throws(RecurError) {
        _ = try valueCounts(batch: batch, steps: steps)
        if let lengths {
            guard lengths.count == batch else {
                throw .shape("lengths has \(lengths.count) entries, one per sequence (\(batch)) is needed")
            }
            for stream in 0..<batch where lengths[stream] < 1 || lengths[stream] > UInt(steps) {
                throw .invalidArgument("lengths[\(stream)] is \(lengths[stream]): a training sequence has 1 to steps (\(steps)) steps")
            }
        }
        // Whether position (stream, step) is read at all (padding is not).
        func valid(_ stream: Int, _ step: Int) -> Bool { lengths.map { UInt(step) < $0[stream] } ?? true }
        let positions = batch * steps
        if config.stateful, hasCarriedState, carriedBatch != batch {
            throw .shape("batch is \(batch), but this stateful trainer carries the state of \(carriedBatch) streams (reset its state to change the batch)")
        }
        guard input.count == positions * model.inputSize, let x = input.baseAddress else {
            throw .shape("x has \(input.count) floats, batch \(batch) x steps \(steps) x input size \(model.inputSize) needs \(positions * model.inputSize)")
        }
        for i in 0..<input.count where !x[i].isFinite && valid(i / (steps * model.inputSize), i / model.inputSize % steps) {
            let size = model.inputSize
            throw RecurError(.numeric, "x[\(i / (steps * size))][\(i / size % steps)][\(i % size)] is \(x[i]), not a finite number: nothing was updated")
        }
        let targetPositions = config.targetPositions(batch: batch, steps: steps)
        let layout = config.targets == .sequence ? "[batch][steps]" : "[batch]"
        switch targets {
        case .values(let buffer):
            let needed = targetPositions * model.outputSize
            guard buffer.count == needed, let t = buffer.baseAddress else {
                throw .shape("target has \(buffer.count) floats, \(layout)[output] = \(needed) needed for \"targets\": \"\(config.targets.rawValue)\"")
            }
            let everyStep = config.targets == .sequence, width = model.outputSize
            for i in 0..<needed where !t[i].isFinite && (!everyStep || valid(i / width / steps, i / width % steps)) {
                throw RecurError(.numeric, "target[\(i)] is \(t[i]), not a finite number: nothing was updated")
            }
        case .labels(let buffer):
            guard config.loss == .crossEntropy else {
                throw .invalidArgument("labels need \"loss\": \"cross_entropy\", this trainer's loss is \(config.loss.rawValue)")
            }
            guard buffer.count == targetPositions, let labels = buffer.baseAddress else {
                throw .shape("labels has \(buffer.count) entries, \(layout) = \(targetPositions) needed for \"targets\": \"\(config.targets.rawValue)\"")
            }
            let everyStep = config.targets == .sequence
            for i in 0..<targetPositions where (labels[i] < 0 || Int(labels[i]) >= model.outputSize)
                && (!everyStep || valid(i / steps, i % steps)) {
                throw .invalidArgument("labels[\(i)] is \(labels[i]), not a class of this model (0 to \(model.outputSize - 1))")
            }
        }
    }

    func firstNonFiniteGradient() -> String {
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
