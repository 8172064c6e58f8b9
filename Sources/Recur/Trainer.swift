import RecurCore

/// Fine-tunes a model with backpropagation through time: each `step` runs
/// a batch forward, computes the loss, and updates the model's weights in
/// place. Configured by a JSON object (docs/fine-tuning.md): loss, targets
/// ("sequence" or "last"), optimizer, clipping, frozen layers, stateful.
///
/// Inputs are `[batch][steps][inputSize]`; targets `[batch][steps][outputSize]`
/// (or `[batch][outputSize]` with `"targets": "last"`), labels one class per
/// position. A trainer is used by one thread at a time (not `Sendable`).
/// A refused step changes nothing.
public final class Trainer {
    /// The model this trainer updates.
    public let model: Model
    let core: RecurCore.Trainer

    init(model: Model, core: RecurCore.Trainer) {
        self.model = model
        self.core = core
    }

    /// One training step on float targets; returns the loss before the update.
    /// With `lengths`, sequence b has `lengths[b]` steps (1 ... steps):
    /// inputs and targets past them are never read, nor counted in the loss.
    @discardableResult
    public func step(_ x: [Float], batch: Int, steps: Int, targets: [Float], lengths: [Int]? = nil) throws(RecurError) -> Float {
        try x.withUnsafeBufferPointer { (input) throws(RecurError) in
            try targets.withUnsafeBufferPointer { (values) throws(RecurError) in
                try withLengths(lengths) { (counts) throws(RecurError) in
                    try bridged { () throws(RecurCore.RecurError) in
                        try self.core.step(input: input, batch: batch, steps: steps, lengths: counts, targets: .values(values))
                    }
                }
            }
        }
    }

    /// One training step on class labels (`"loss": "cross_entropy"`).
    @discardableResult
    public func step(_ x: [Float], batch: Int, steps: Int, labels: [Int32], lengths: [Int]? = nil) throws(RecurError) -> Float {
        try x.withUnsafeBufferPointer { (input) throws(RecurError) in
            try labels.withUnsafeBufferPointer { (classes) throws(RecurError) in
                try withLengths(lengths) { (counts) throws(RecurError) in
                    try bridged { () throws(RecurCore.RecurError) in
                        try self.core.step(input: input, batch: batch, steps: steps, lengths: counts, targets: .labels(classes))
                    }
                }
            }
        }
    }

    /// `step` over unsafe buffers (zero-copy callers).
    @discardableResult
    public func step(_ x: UnsafeBufferPointer<Float>, batch: Int, steps: Int, targets: UnsafeBufferPointer<Float>,
                     lengths: UnsafeBufferPointer<UInt>? = nil) throws(RecurError) -> Float {
        try bridged { () throws(RecurCore.RecurError) in
            try self.core.step(input: x, batch: batch, steps: steps, lengths: lengths, targets: .values(targets))
        }
    }

    /// The global L2 norm of the last step's gradient, before clipping.
    public var lastGradientNorm: Float { core.lastGradientNorm }

    /// The last step's gradient of tensor `name` of layer `layer`.
    public func gradient(layer: Int, name: String) throws(RecurError) -> [Float] {
        let count = try bridged { () throws(RecurCore.RecurError) in try self.model.core.slot(layer: layer, tensor: name).count }
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(RecurError) in
            try bridged { () throws(RecurCore.RecurError) in try self.core.getGradient(layer: layer, name: name, into: buffer) }
        }
        return values
    }

    /// Stateful training: forget the carried state (the next step starts from zero).
    public func resetState() { core.resetState() }

    /// Splits later steps over `count` threads (1 to 256); the results stay bit-identical.
    public func setThreads(_ count: Int) throws(RecurError) {
        try bridged { () throws(RecurCore.RecurError) in try self.core.setThreads(count) }
    }

    private func withLengths<R>(_ lengths: [Int]?, _ body: (UnsafeBufferPointer<UInt>?) throws(RecurError) -> R) throws(RecurError) -> R {
        guard let lengths else { return try body(nil) }
        guard lengths.allSatisfy({ $0 >= 0 }) else { throw RecurError(.invalidArgument, "lengths holds a negative length") }
        let counts = lengths.map { UInt($0) }
        var result: Result<R, RecurError>? = nil
        counts.withUnsafeBufferPointer { buffer in
            do throws(RecurError) { result = .success(try body(buffer)) } catch { result = .failure(error) }
        }
        return try result!.get()
    }
}
