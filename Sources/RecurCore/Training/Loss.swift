// Losses, each a mean (docs/c-api.md): the value, and its gradient with
// respect to the head's output (mse) or its logits (the classification
// losses, computed from logits for numerical stability). Shared by every
// kernel level, and without libm (Approx's exp and log): the same bits on
// every CPU.

/// What the targets of one step are: floats (mse, probabilities, binary
/// targets) or class indices (cross-entropy with labels).
enum TargetValues {
    case values(UnsafePointer<Float>)
    case labels(UnsafePointer<Int32>)
}

enum LossFunction {
    /// Loss over `positions` target positions of `width` outputs each.
    /// `prediction(k)` is the head's output (mse) or logits (others) at
    /// position k; writes dL/d(prediction) to `gradient(k)`. Returns the loss
    /// in Double (accumulated in Double for a stable mean).
    static func evaluate(_ loss: TrainerConfig.Loss, positions: Int, width: Int, targets: TargetValues,
                         prediction: (Int) -> UnsafePointer<Float>,
                         gradient: (Int) -> UnsafeMutablePointer<Float>) -> Double {
        var total = 0.0
        switch loss {
        case .mse:
            let scale = 2 / Float(positions * width)
            guard case .values(let t) = targets else { return .nan }
            for k in 0..<positions {
                let (y, dy, target) = (prediction(k), gradient(k), t + k * width)
                for j in 0..<width {
                    let difference = y[j] - target[j]
                    total += Double(difference) * Double(difference)
                    dy[j] = scale * difference
                }
            }
            return total / Double(positions * width)

        case .crossEntropy:
            let scale = 1 / Float(positions)
            for k in 0..<positions {
                let (z, dz) = (prediction(k), gradient(k))
                var largest = -Float.infinity
                for j in 0..<width { largest = max(largest, z[j]) }
                var sum = 0.0
                for j in 0..<width { sum += Double(Approx.exp(z[j] - largest)) }
                let logSum = Double(largest) + Approx.log(sum)    // log-sum-exp
                switch targets {
                case .values(let t):
                    let target = t + k * width
                    var mass: Float = 0
                    for j in 0..<width {
                        total -= Double(target[j]) * (Double(z[j]) - logSum)
                        mass += target[j]
                    }
                    for j in 0..<width { dz[j] = scale * (Approx.exp(Float(Double(z[j]) - logSum)) * mass - target[j]) }
                case .labels(let labels):
                    let label = Int(labels[k])
                    total -= Double(z[label]) - logSum
                    for j in 0..<width { dz[j] = scale * (Approx.exp(Float(Double(z[j]) - logSum)) - (j == label ? 1 : 0)) }
                }
            }
            return total / Double(positions)

        case .binaryCrossEntropy:
            let scale = 1 / Float(positions * width)
            guard case .values(let t) = targets else { return .nan }
            for k in 0..<positions {
                let (z, dz, target) = (prediction(k), gradient(k), t + k * width)
                for j in 0..<width {
                    // max(z, 0) - z t + log(1 + exp(-|z|)): no overflow for any z.
                    let x = Double(z[j]), y = Double(target[j])
                    total += max(x, 0) - x * y + Approx.log1p(Double(Approx.exp(Float(-abs(x)))))
                    dz[j] = scale * (Approx.sigmoid(z[j]) - target[j])
                }
            }
            return total / Double(positions * width)
        }
    }
}

extension LossFunction {
    /// The loss of a training step from its tape: the head's outputs (mse)
    /// or logits (the others, its record) at each target position, and
    /// dL/d(those) written as the head's output gradient on the tape.
    /// Target position k is (stream k / steps, step k % steps) for
    /// "sequence", (stream k, the last step) for "last".
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
        return evaluate(config.loss, positions: config.targetPositions(batch: tape.batch, steps: steps), width: model.outputSize,
                        targets: values,
                        prediction: { k in
                            let (b, t) = everyStep ? (k / steps, k % steps) : (k, steps - 1)
                            return UnsafePointer(predictions.at(stream: b, step: t))
                        },
                        gradient: { k in
                            let (b, t) = everyStep ? (k / steps, k % steps) : (k, steps - 1)
                            return outputGradient.at(stream: b, step: t)
                        })
    }
}
