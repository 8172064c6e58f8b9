// MARK: - Inference state
import RecurCore

/// Creates inference state for `batch` independent streams of `model`, all
/// starting at zero. The state keeps the model alive: the model may be freed
/// first. On success *out_state is a new state the caller frees with
/// recur_state_free. A state is used by one thread at a time; any number of
/// states may run over one model at once.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, or batch 0 or too
/// large), RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_state_create")
public func recur_state_create(_ model: ConstModelPointer?, _ batch: UInt, _ out_state: UnsafeMutablePointer<StatePointer?>?) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let batch = try count(batch, "batch")
        let out = try required(out_state, "out_state")
        out.pointee = Handle.retain(try State(model: model, batch: batch))
    }
}

/// Frees a state (and its reference to the model). NULL is a no-op.
@_cdecl("recur_state_free")
public func recur_state_free(_ state: StatePointer?) {
    Handle.release(state, as: State.self)
}

/// Sets every stream's state to zero.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (state NULL).
@_cdecl("recur_state_reset")
public func recur_state_reset(_ state: StatePointer?) -> Status {
    withStatus { () throws(RecurError) in
        try Handle.unbox(state, as: State.self, "state").reset()
    }
}

/// Sets one stream's state to zero; the other streams are untouched.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (state NULL, or stream
/// not below the batch size).
@_cdecl("recur_state_reset_stream")
public func recur_state_reset_stream(_ state: StatePointer?, _ stream: UInt) -> Status {
    withStatus { () throws(RecurError) in
        let state = try Handle.unbox(state, as: State.self, "state")
        try state.reset(stream: try RecurCAPI.index(stream, "stream"))
    }
}

/// Floats of state per stream: layer 0's h, layer 0's c (LSTM only),
/// layer 1's h, ... as in the model format. 0 when state is NULL.
@_cdecl("recur_state_size")
public func recur_state_size(_ state: ConstStatePointer?) -> UInt {
    UInt(Handle.peek(state, as: State.self)?.size ?? 0)
}

/// Number of streams; 0 when state is NULL.
@_cdecl("recur_state_batch")
public func recur_state_batch(_ state: ConstStatePointer?) -> UInt {
    UInt(Handle.peek(state, as: State.self)?.batch ?? 0)
}

/// Copies the state out to `out`, [batch][recur_state_size] floats;
/// `count` must be batch * recur_state_size. `out` may be NULL when count
/// is 0 (a model without state: dense layers, bidirectional ones).
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL), RECUR_ERROR_SHAPE
/// (count differs).
@_cdecl("recur_state_get")
public func recur_state_get(_ state: ConstStatePointer?, _ out: UnsafeMutablePointer<Float>?, _ count: UInt) -> Status {
    withStatus { () throws(RecurError) in
        let state = try Handle.unbox(state, as: State.self, "state")
        let n = try RecurCAPI.count(count, "count")
        try state.get(into: UnsafeMutableBufferPointer(start: n == 0 ? out : try required(out, "out"), count: n))
    }
}

/// Replaces the state with `values`, [batch][recur_state_size] floats;
/// `count` must be batch * recur_state_size; `values` may be NULL when count
/// is 0. On error the state is unchanged. A model with a bidirectional layer
/// runs every sequence from zero state: its state cannot be set
/// (RECUR_ERROR_MODEL, naming the layer).
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL), RECUR_ERROR_SHAPE
/// (count differs), RECUR_ERROR_NUMERIC (a value is NaN or infinite),
/// RECUR_ERROR_MODEL (a bidirectional model).
@_cdecl("recur_state_set")
public func recur_state_set(_ state: StatePointer?, _ values: UnsafePointer<Float>?, _ count: UInt) -> Status {
    withStatus { () throws(RecurError) in
        let state = try Handle.unbox(state, as: State.self, "state")
        let n = try RecurCAPI.count(count, "count")
        try state.set(from: UnsafeBufferPointer(start: n == 0 ? values : try required(values, "values"), count: n))
    }
}

/// Advances every stream by one time step. `x` is [batch][input_size],
/// `y` receives [batch][output_size]. With one thread (the default) it
/// allocates nothing and takes no lock.
/// On error the state is unchanged. A model with a bidirectional layer
/// cannot step (its reverse cells start at a sequence's last step): use
/// recur_state_run with the whole sequence.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL),
/// RECUR_ERROR_NUMERIC (x holds NaN or infinity), RECUR_ERROR_MODEL (a
/// bidirectional model; the message names the layer).
@_cdecl("recur_state_step")
public func recur_state_step(_ state: StatePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>?) -> Status {
    withStatus { () throws(RecurError) in
        try Handle.borrow(state, as: State.self, "state") { (state) throws(RecurError) in
            try state.step(x: try required(x, "x"), y: try required(y, "y"))
        }
    }
}

/// Advances every stream by `steps` time steps, continuing from the state.
/// `x` is [batch][steps][input_size], `y` receives [batch][steps][output_size].
/// Gives the same floats as `steps` calls of recur_state_step. For a model
/// with a bidirectional layer each call is one whole sequence from zero
/// state (the first such call longer than any before allocates).
/// On error the state is unchanged.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, or steps 0),
/// RECUR_ERROR_SHAPE (batch * steps too large), RECUR_ERROR_NUMERIC (x holds
/// NaN or infinity).
@_cdecl("recur_state_run")
public func recur_state_run(_ state: StatePointer?, _ x: UnsafePointer<Float>?, _ steps: UInt, _ y: UnsafeMutablePointer<Float>?) -> Status {
    withStatus { () throws(RecurError) in
        try Handle.borrow(state, as: State.self, "state") { (state) throws(RecurError) in
            try state.run(x: try required(x, "x"), steps: try count(steps, "steps"), y: try required(y, "y"))
        }
    }
}

/// Like recur_state_run, for streams of different lengths: stream b runs
/// only its first lengths[b] steps (0 <= lengths[b] <= steps). Its inputs
/// past that are never read, its outputs there are written as 0, and its
/// state afterwards is the one after its own last step (unchanged when
/// lengths[b] is 0). A stream's floats are bit-identical to running it
/// alone for its own length. `lengths` has one entry per stream.
/// On error the state is unchanged.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, steps 0, a length
/// above steps: the message names the stream), RECUR_ERROR_SHAPE (batch *
/// steps too large), RECUR_ERROR_NUMERIC (x holds NaN or infinity within a
/// stream's length).
@_cdecl("recur_state_run_lengths")
public func recur_state_run_lengths(_ state: StatePointer?, _ x: UnsafePointer<Float>?, _ steps: UInt, _ lengths: UnsafePointer<UInt>?, _ y: UnsafeMutablePointer<Float>?) -> Status {
    withStatus { () throws(RecurError) in
        let state = try Handle.unbox(state, as: State.self, "state")
        try state.run(x: try required(x, "x"), steps: try count(steps, "steps"), lengths: try required(lengths, "lengths"),
                      y: try required(y, "y"))
    }
}

/// Splits the streams of later step/run calls over `threads` threads (opt-in;
/// 1, the default, starts no thread and takes no lock). Outputs stay
/// bit-identical to one thread. More threads than streams are not used.
/// Threads start here and end when the state is freed or set back to 1.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (state NULL, threads 0 or
/// above 256), RECUR_ERROR_OUT_OF_MEMORY (a thread could not start).
@_cdecl("recur_state_set_threads")
public func recur_state_set_threads(_ state: StatePointer?, _ threads: UInt) -> Status {
    withStatus { () throws(RecurError) in
        try Handle.unbox(state, as: State.self, "state").setThreads(try RecurCAPI.index(threads, "threads"))
    }
}
