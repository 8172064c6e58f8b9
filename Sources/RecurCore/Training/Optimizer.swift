// Optimizers as pure functions over flat buffers (kann's way): parameters,
// gradients and the optimizer's own state are ranges of floats; the trainer
// calls these once per trainable range. PyTorch's update rules, float32.
// `scale` is the gradient-clipping factor (1 when not clipping). Shared by
// every kernel level, without libm: the same bits on every CPU.

enum Optimizer {
    /// torch.optim.SGD (dampening 0, no Nesterov):
    ///   g += weight_decay * p;  buf = g (first step) or momentum * buf + g;  p -= lr * buf
    static func sgd(_ config: OptimizerConfig, step: Int, parameters p: UnsafeMutablePointer<Float>,
                    gradients g: UnsafePointer<Float>, scale: Float, momentum buffer: UnsafeMutablePointer<Float>, count: Int) {
        let (lr, decay, momentum) = (config.learningRate, config.weightDecay, config.momentum)
        for i in 0..<count {
            var d = g[i] * scale + decay * p[i]
            if momentum != 0 {
                buffer[i] = step == 1 ? d : momentum * buffer[i] + d
                d = buffer[i]
            }
            p[i] -= lr * d
        }
    }

    /// torch.optim.Adam (`decoupled` false: weight decay added to the
    /// gradient) and torch.optim.AdamW (`decoupled` true: p *= 1 - lr * wd).
    /// `step` counts from 1.
    static func adam(_ config: OptimizerConfig, step: Int, decoupled: Bool, parameters p: UnsafeMutablePointer<Float>,
                     gradients g: UnsafePointer<Float>, scale: Float, firstMoment m: UnsafeMutablePointer<Float>,
                     secondMoment v: UnsafeMutablePointer<Float>, count: Int) {
        let (lr, decay, beta1, beta2, epsilon) = (config.learningRate, config.weightDecay, config.beta1, config.beta2, config.epsilon)
        let correction1 = 1 - Approx.power(Double(beta1), step)
        let correction2 = 1 - Approx.power(Double(beta2), step)
        let stepSize = Float(Double(lr) / correction1)
        let correction2Root = Float(correction2.squareRoot())
        for i in 0..<count {
            var gradient = g[i] * scale
            if decoupled { p[i] *= 1 - lr * decay } else { gradient += decay * p[i] }
            m[i] += (1 - beta1) * (gradient - m[i])
            v[i] = beta2 * v[i] + (1 - beta2) * gradient * gradient
            p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + epsilon)
        }
    }
}
