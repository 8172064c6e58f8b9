//! `State`: inference state for `batch` independent streams of one model (`recur_state`).

use std::ptr::{self, NonNull};

use crate::error::{check, check_len, Error, Result, Status};
use crate::model::Model;
use crate::sys;

/// Runs a model over `batch` independent streams, each starting at zero.
///
/// Arrays are float32, row-major, batch first: a step's `x` is
/// `[batch][input_size]` and `y` `[batch][output_size]`; a run's `x` is
/// `[batch][steps][input_size]` and `y` `[batch][steps][output_size]`.
/// Every slice length is checked before the library is called; a mismatch
/// is an [`Error`] with [`Status::Shape`] whose message names the argument.
///
/// # Why `State<'m>` borrows its model
///
/// Not for memory: the C library keeps a state's model alive by itself. The
/// borrow is there because a state reads the model's weights on every step,
/// and the calls that write them (`Model::set_tensor`,
/// `Model::set_weight_storage`, a `Trainer`'s steps) must not run meanwhile
/// (recur.h, docs/threading.md). Those take `&mut Model`, so while any
/// `State<'m>` exists they cannot be called: the rule is checked at compile
/// time instead of being a data race at run time. Evaluate during training
/// through [`Trainer::model`](crate::Trainer::model), or on a clone.
///
/// ```compile_fail,E0502
/// # fn main() -> recur::Result<()> {
/// let mut model = recur::Model::load("examples/models/tiny_lstm.json")?;
/// let mut state = model.state(1)?;
/// model.set_tensor(1, "bias", &[0.5])?; // error: `model` is borrowed by `state`
/// state.reset()?;
/// # Ok(()) }
/// ```
///
/// # Threads
///
/// `State` is `Send` but not `Sync`: a state is used by one thread at a time
/// and may move to another thread between calls (docs/threading.md). Give
/// each thread its own state over a shared `&Model`.
///
/// ```compile_fail,E0277
/// fn shared<T: Sync>(_: &T) {}
/// # fn main() -> recur::Result<()> {
/// let model = recur::Model::load("examples/models/tiny_lstm.json")?;
/// let state = model.state(1)?;
/// shared(&state); // error: a State is not Sync
/// # Ok(()) }
/// ```
pub struct State<'m> {
    raw: NonNull<sys::recur_state>,
    model: &'m Model,
    batch: usize,
    input_size: usize,
    output_size: usize,
    size: usize,
}

// SAFETY: a state may be used from any one thread at a time; Rust's Send
// hands it over with the synchronisation the C API asks for. Not Sync: two
// threads must never call into one state at once.
unsafe impl Send for State<'_> {}

impl<'m> State<'m> {
    pub(crate) fn new(model: &'m Model, batch: usize) -> Result<State<'m>> {
        let mut out = ptr::null_mut();
        // SAFETY: a live model; `out` is written only on success.
        check(unsafe { sys::recur_state_create(model.as_raw(), batch, &mut out) })?;
        let raw = NonNull::new(out).expect("recur returned RECUR_OK and a NULL state");
        Ok(State {
            raw,
            model,
            batch,
            input_size: model.input_size(),
            output_size: model.output_size(),
            // SAFETY: a live state.
            size: unsafe { sys::recur_state_size(raw.as_ptr()) },
        })
    }

    /// The model this state runs.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Number of streams.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Features per step of each stream's input.
    pub fn input_size(&self) -> usize {
        self.input_size
    }

    /// Features per step of each stream's output.
    pub fn output_size(&self) -> usize {
        self.output_size
    }

    /// Floats of state per stream (layer 0's h, its c for an LSTM, layer 1's h, ...).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The C handle, still owned by this `State` (for calls through [`crate::sys`]).
    pub fn as_raw(&self) -> *const sys::recur_state {
        self.raw.as_ptr()
    }

    /// Advances every stream by one time step: `x` is `[batch][input_size]`,
    /// `y` receives `[batch][output_size]`. Allocates nothing. On error the
    /// state is unchanged ([`Status::Numeric`] for NaN or infinity in `x`).
    pub fn step(&mut self, x: &[f32], y: &mut [f32]) -> Result<()> {
        let context = "State::step";
        check_len(
            context,
            "x",
            x.len(),
            &[("batch", self.batch), ("input_size", self.input_size)],
        )?;
        check_len(
            context,
            "y",
            y.len(),
            &[("batch", self.batch), ("output_size", self.output_size)],
        )?;
        // SAFETY: &mut self: one caller at a time; both slices have exactly the lengths the library reads and writes.
        check(unsafe { sys::recur_state_step(self.raw.as_ptr(), x.as_ptr(), y.as_mut_ptr()) })
    }

    /// Advances every stream by `steps` time steps, continuing from the
    /// state: `x` is `[batch][steps][input_size]`, `y` receives
    /// `[batch][steps][output_size]`. The same floats as `steps` calls of
    /// [`step`](State::step). On error the state is unchanged.
    pub fn run(&mut self, x: &[f32], steps: usize, y: &mut [f32]) -> Result<()> {
        let context = "State::run";
        self.check_run(context, x, steps, y)?;
        // SAFETY: as in step, with `steps` steps per stream.
        check(unsafe { sys::recur_state_run(self.raw.as_ptr(), x.as_ptr(), steps, y.as_mut_ptr()) })
    }

    /// [`run`](State::run) for streams of different lengths: stream b runs
    /// only its first `lengths[b]` steps (0 to `steps`). Its inputs past that
    /// are never read, its outputs there are 0, and its state afterwards is
    /// the one after its own last step. Each stream gives the same floats as
    /// running it alone for its own length. `x` and `y` keep the full
    /// `[batch][steps][...]` layout.
    pub fn run_lengths(&mut self, x: &[f32], steps: usize, lengths: &[usize], y: &mut [f32]) -> Result<()> {
        let context = "State::run_lengths";
        self.check_run(context, x, steps, y)?;
        check_len(context, "lengths", lengths.len(), &[("batch", self.batch)])?;
        // The library checks each length against `steps` (the message names
        // the stream); x and y are full-sized whatever the lengths.
        // SAFETY: as in run; `lengths` has one entry per stream.
        check(unsafe {
            sys::recur_state_run_lengths(self.raw.as_ptr(), x.as_ptr(), steps, lengths.as_ptr(), y.as_mut_ptr())
        })
    }

    fn check_run(&self, context: &str, x: &[f32], steps: usize, y: &[f32]) -> Result<()> {
        if steps == 0 {
            return Err(Error::new(Status::InvalidArgument, format!("{context}: steps is 0")));
        }
        let sizes = |name, size| [("batch", self.batch), ("steps", steps), (name, size)];
        check_len(context, "x", x.len(), &sizes("input_size", self.input_size))?;
        check_len(context, "y", y.len(), &sizes("output_size", self.output_size))
    }

    /// Sets every stream's state to zero.
    pub fn reset(&mut self) -> Result<()> {
        // SAFETY: a live state, one caller.
        check(unsafe { sys::recur_state_reset(self.raw.as_ptr()) })
    }

    /// Sets stream `stream`'s state to zero; the others are untouched.
    /// [`Status::InvalidArgument`] when `stream` is not below the batch size.
    pub fn reset_stream(&mut self, stream: usize) -> Result<()> {
        // SAFETY: a live state; the library checks the index.
        check(unsafe { sys::recur_state_reset_stream(self.raw.as_ptr(), stream) })
    }

    /// A copy of the state, `[batch][size()]` floats.
    pub fn get(&self) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.batch * self.size];
        self.get_into(&mut out)?;
        Ok(out)
    }

    /// Copies the state into `out`, exactly `[batch][size()]` floats.
    pub fn get_into(&self, out: &mut [f32]) -> Result<()> {
        check_len(
            "State::get",
            "out",
            out.len(),
            &[("batch", self.batch), ("size", self.size)],
        )?;
        // SAFETY: `out` holds exactly the count passed.
        check(unsafe { sys::recur_state_get(self.raw.as_ptr(), out.as_mut_ptr(), out.len()) })
    }

    /// Replaces the state with `values`, `[batch][size()]` finite floats.
    /// On error the state is unchanged.
    pub fn set(&mut self, values: &[f32]) -> Result<()> {
        check_len(
            "State::set",
            "values",
            values.len(),
            &[("batch", self.batch), ("size", self.size)],
        )?;
        // SAFETY: `values` holds exactly the count passed.
        check(unsafe { sys::recur_state_set(self.raw.as_ptr(), values.as_ptr(), values.len()) })
    }

    /// Splits the streams of later step and run calls over `threads` worker
    /// threads (1, the default, starts none). Outputs stay bit-identical.
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        // SAFETY: a live state; the library checks the count (1 to 256).
        check(unsafe { sys::recur_state_set_threads(self.raw.as_ptr(), threads) })
    }
}

impl Drop for State<'_> {
    fn drop(&mut self) {
        // SAFETY: this State owns its handle; &mut self: no call is running on it.
        unsafe { sys::recur_state_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for State<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("batch", &self.batch)
            .field("size", &self.size)
            .finish()
    }
}
