// Opt-in diagnostics of a training step. They cost nothing unless the
// trainer configuration asks for them ("record_hidden_gradient_norms": true).

/// |dL/dh_t|^2 of each stream and step of every recurrent layer, recorded by
/// the backward pass (Backprop), read as per-step norms over the batch.
final class HiddenGradientNorms {
    private var buffers: [FloatBuffer] = []
    private(set) var batch = 0
    private(set) var steps = 0

    /// Where layer `layer`'s squares of a step of this size go (`prepare`
    /// made room for it before the step).
    func squares(layer: Int, batch: Int, steps: Int) -> UnsafeMutablePointer<Float>? {
        guard layer < buffers.count, self.batch == batch, self.steps == steps else { return nil }
        return buffers[layer].base
    }

    /// Makes room for a step of `batch` x `steps` over `model`'s layers.
    func prepare(for model: Model, batch: Int, steps: Int) throws(RecurError) {
        guard self.batch != batch || self.steps != steps || buffers.count != model.layers.count else { return }
        var fresh: [FloatBuffer] = []
        for layer in model.layers { fresh.append(try FloatBuffer(count: layer.kind.isRecurrent ? batch * steps : 0)) }
        buffers = fresh
        self.batch = batch
        self.steps = steps
    }

    /// For each step t of the last training step, the L2 norm over the batch
    /// of dL/dh_t of layer `layer`; zeros before the first step and for a
    /// layer below the lowest trainable one.
    func norms(layer: Int, into out: UnsafeMutableBufferPointer<Float>) {
        guard layer < buffers.count, buffers[layer].count == batch * steps, batch > 0 else {
            out.update(repeating: 0)
            return
        }
        let squares = buffers[layer].base
        for t in 0..<steps {
            var total = 0.0
            for stream in 0..<batch { total += Double(squares[stream * steps + t]) }
            out[t] = Float(total.squareRoot())
        }
    }
}
