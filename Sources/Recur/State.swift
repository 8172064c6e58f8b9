import RecurCore

/// Inference state for `batch` independent streams over one model: each
/// stream's h (and c), carried from call to call.
///
/// Inputs and outputs are flat, stream after stream: `step` takes
/// `[batch][inputSize]` and gives `[batch][outputSize]`; `run` takes
/// `[batch][steps][inputSize]` and gives `[batch][steps][outputSize]`.
/// The overloads that write `into` an array of the right size, or take
/// unsafe buffers, allocate nothing.
///
/// A state is used by one thread at a time (it is not `Sendable`); it keeps
/// its model alive. On any error the state is left unchanged.
public final class State {
    /// The model this state runs.
    public let model: Model
    let core: RecurCore.State

    init(model: Model, core: RecurCore.State) {
        self.model = model
        self.core = core
    }

    /// Streams in this state.
    public var batch: Int { core.batch }

    /// One time step for every stream: `x` is `[batch][inputSize]`, `y`
    /// receives `[batch][outputSize]` (it must have that size).
    public func step(_ x: [Float], into y: inout [Float]) throws(RecurError) {
        try x.withUnsafeBufferPointer { (input) throws(RecurError) in
            try y.withUnsafeMutableBufferPointer { (output) throws(RecurError) in try step(input, into: output) }
        }
    }

    /// One time step for every stream; returns `[batch][outputSize]`.
    public func step(_ x: [Float]) throws(RecurError) -> [Float] {
        var y = [Float](repeating: 0, count: batch * model.outputSize)
        try step(x, into: &y)
        return y
    }

    /// `step` over unsafe buffers (zero-copy callers).
    public func step(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        try bridged { () throws(RecurCore.RecurError) in try self.core.step(input: x, output: y) }
    }

    /// `steps` time steps for every stream, continuing from the state.
    /// With `lengths` (one per stream, 0 ... steps), stream b runs only its
    /// first `lengths[b]` steps: its inputs past them are never read, its
    /// outputs there are 0, and its state is the one after its own last step.
    public func run(_ x: [Float], steps: Int, lengths: [Int]? = nil, into y: inout [Float]) throws(RecurError) {
        try x.withUnsafeBufferPointer { (input) throws(RecurError) in
            try y.withUnsafeMutableBufferPointer { (output) throws(RecurError) in
                guard let lengths else { return try run(input, steps: steps, into: output) }
                guard lengths.allSatisfy({ $0 >= 0 }) else {
                    throw RecurError(.invalidArgument, "lengths holds a negative length")
                }
                try lengths.map { UInt($0) }.withUnsafeBufferPointer { (counts) throws(RecurError) in
                    try run(input, steps: steps, lengths: counts, into: output)
                }
            }
        }
    }

    /// `run`, returning `[batch][steps][outputSize]`.
    public func run(_ x: [Float], steps: Int, lengths: [Int]? = nil) throws(RecurError) -> [Float] {
        guard steps >= 1 else { throw RecurError(.invalidArgument, "steps is \(steps): at least one step is needed") }
        let (count, overflow) = batch.multipliedReportingOverflow(by: steps * model.outputSize)
        guard !overflow, count <= Int.max / 8 else { throw RecurError(.shape, "batch \(batch) x steps \(steps) is too large") }
        var y = [Float](repeating: 0, count: count)
        try run(x, steps: steps, lengths: lengths, into: &y)
        return y
    }

    /// `run` over unsafe buffers (zero-copy callers); `lengths`, when given,
    /// has one entry per stream.
    public func run(_ x: UnsafeBufferPointer<Float>, steps: Int, lengths: UnsafeBufferPointer<UInt>? = nil,
                    into y: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        try bridged { () throws(RecurCore.RecurError) in
            if let lengths {
                try self.core.run(input: x, steps: steps, lengths: lengths, output: y)
            } else {
                try self.core.run(input: x, steps: steps, output: y)
            }
        }
    }

    /// Every stream back to zeros.
    public func reset() { core.reset() }

    /// Stream `stream` back to zeros; the others are untouched.
    public func reset(stream: Int) throws(RecurError) {
        try bridged { () throws(RecurCore.RecurError) in try self.core.reset(stream: stream) }
    }

    /// The state, `[batch][model.stateSize]` (a save-game).
    public func values() throws(RecurError) -> [Float] {
        var out = [Float](repeating: 0, count: batch * model.stateSize)
        try out.withUnsafeMutableBufferPointer { (buffer) throws(RecurError) in
            try bridged { () throws(RecurCore.RecurError) in try self.core.get(into: buffer) }
        }
        return out
    }

    /// Replaces the state with `values`, `[batch][model.stateSize]` finite floats.
    public func setValues(_ values: [Float]) throws(RecurError) {
        try values.withUnsafeBufferPointer { (buffer) throws(RecurError) in
            try bridged { () throws(RecurCore.RecurError) in try self.core.set(from: buffer) }
        }
    }

    /// Splits the streams of later calls over `count` threads (1 to 256);
    /// the results stay bit-identical.
    public func setThreads(_ count: Int) throws(RecurError) {
        try bridged { () throws(RecurCore.RecurError) in try self.core.setThreads(count) }
    }
}
