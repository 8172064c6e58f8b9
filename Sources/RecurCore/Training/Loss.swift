// Losses, each a mean (docs/c-api.md): the value, and its gradient with
// respect to the head's output (mse) or its logits (the classification
// losses, computed from logits for numerical stability). Shared by every
// kernel level, and without libm (Approx's exp and log): the same bits on
// every CPU. The exponentials of a position's outputs are taken together
// by the kernel level (`exponentials`: Approx.exp lane by lane, vectorised).

import RecurKernelInterface

/// What the targets of one step are: floats (mse, probabilities, binary
/// targets) or class indices (cross-entropy with labels).
enum TargetValues {
    case values(UnsafePointer<Float>)
    case labels(UnsafePointer<Int32>)
}

enum LossFunction {
    /// Loss over the target positions k < `positions` for which
    /// `isValid(k)` (`counted` of them: the mean is over those), `width`
    /// outputs each. `prediction(k)` is the head's output (mse) or logits
    /// (others) at position k; writes dL/d(prediction) to `gradient(k)`.
    /// Targets of other positions are never read. Returns the loss in
    /// Double (accumulated in Double for a stable mean). `scratch` has room
    /// for padded(width) floats.
    static func evaluate(_ loss: TrainerConfig.Loss, positions: Int, counted: Int, isValid: (Int) -> Bool,
                         width: Int, targets: TargetValues,
                         prediction: (Int) -> UnsafePointer<Float>,
                         gradient: (Int) -> UnsafeMutablePointer<Float>,
                         kernels: any Kernels.Type, scratch e: UnsafeMutablePointer<Float>) -> Double {
        var total = 0.0
        let lanes = padded(width)
        e.update(repeating: 0, count: lanes)
        switch loss {
        case .mse:
            let scale = 2 / Float(counted * width)
            guard case .values(let t) = targets else { return .nan }
            for k in 0..<positions where isValid(k) {
                let (y, dy, target) = (prediction(k), gradient(k), t + k * width)
                for j in 0..<width {
                    let difference = y[j] - target[j]
                    total += Double(difference) * Double(difference)
                    dy[j] = scale * difference
                }
            }
            return total / Double(counted * width)

        case .crossEntropy:
            let scale = 1 / Float(counted)
            for k in 0..<positions where isValid(k) {
                let (z, dz) = (prediction(k), gradient(k))
                var largest = -Float.infinity
                for j in 0..<width { largest = max(largest, z[j]) }
                for j in 0..<width { e[j] = z[j] - largest }
                kernels.exponentials(count: lanes, values: e)
                var sum = 0.0
                for j in 0..<width { sum += Double(e[j]) }
                let logSum = Double(largest) + Approx.log(sum)    // log-sum-exp
                for j in 0..<width { e[j] = Float(Double(z[j]) - logSum) }
                kernels.exponentials(count: lanes, values: e)     // the softmax
                switch targets {
                case .values(let t):
                    let target = t + k * width
                    var mass: Float = 0
                    for j in 0..<width {
                        total -= Double(target[j]) * (Double(z[j]) - logSum)
                        mass += target[j]
                    }
                    for j in 0..<width { dz[j] = scale * (e[j] * mass - target[j]) }
                case .labels(let labels):
                    let label = Int(labels[k])
                    total -= Double(z[label]) - logSum
                    for j in 0..<width { dz[j] = scale * (e[j] - (j == label ? 1 : 0)) }
                }
            }
            return total / Double(counted)

        case .binaryCrossEntropy:
            let scale = 1 / Float(counted * width)
            guard case .values(let t) = targets else { return .nan }
            for k in 0..<positions where isValid(k) {
                let (z, dz, target) = (prediction(k), gradient(k), t + k * width)
                for j in 0..<width { e[j] = -abs(z[j]) }
                kernels.exponentials(count: lanes, values: e)
                for j in 0..<width {
                    // max(z, 0) - z t + log(1 + exp(-|z|)): no overflow for any z.
                    let x = Double(z[j]), y = Double(target[j])
                    total += max(x, 0) - x * y + Approx.log1p(Double(e[j]))
                }
                for j in 0..<width { e[j] = -z[j] }
                kernels.exponentials(count: lanes, values: e)
                for j in 0..<width { dz[j] = scale * (1 / (1 + e[j]) - target[j]) }   // Approx.sigmoid
            }
            return total / Double(counted * width)
        }
    }
}

extension LossFunction {
    /// The loss of a training step from its tape: the head's outputs (mse)
    /// or logits (the others, its record) at each target position, and
    /// dL/d(those) written as the head's output gradient on the tape.
    /// Target position k is (stream k / steps, step k % steps) for
    /// "sequence", (stream k, its last step) for "last"; with lengths, the
    /// positions past a stream's length do not count.
    static func evaluate(_ config: TrainerConfig, _ tape: Tape, _ targets: TrainingTargets) -> Double {
        let model = tape.model, head = model.layers.count - 1, steps = tape.steps
        let predictions = config.loss == .mse ? tape.output(head) : tape.record(head)
        let outputGradient = tape.outputGradient(head)
        tape.outputGradients[head].zero()
        let everyStep = config.targets == .sequence
        let values: TargetValues
        switch targets {
        case .values(let buffer): values = .values(buffer.baseAddress!)
        case .labels(let buffer): values = .labels(buffer.baseAddress!)
        }
        let lengths = tape.lengths
        let positions = config.targetPositions(batch: tape.batch, steps: steps)
        var counted = positions
        if let lengths, everyStep {
            counted = 0
            for stream in 0..<tape.batch { counted += lengths[stream] }
        }
        @inline(__always) func place(_ k: Int) -> (stream: Int, step: Int) {
            everyStep ? (k / steps, k % steps) : (k, (lengths?[k] ?? steps) - 1)
        }
        return evaluate(config.loss, positions: positions, counted: counted,
                        isValid: { k in !everyStep || lengths == nil || k % steps < lengths![k / steps] },
                        width: model.outputSize, targets: values,
                        prediction: { k in
                            let (b, t) = place(k)
                            return UnsafePointer(predictions.at(stream: b, step: t))
                        },
                        gradient: { k in
                            let (b, t) = place(k)
                            return outputGradient.at(stream: b, step: t)
                        },
                        kernels: tape.kernels.level, scratch: tape.lossScratch.base)
    }
}
