//! `Trainer`: fine-tunes a model in place by backpropagation through time (`recur_trainer`).

use std::ptr::{self, NonNull};

use crate::error::{check, check_len, Error, Result, Status};
use crate::model::{text_to_c, Model};
use crate::sys;

/// Fine-tunes its model in place. Make one with [`Model::trainer`].
///
/// A step takes `x` as `[batch][steps][input_size]` and float targets as
/// `[batch][steps][output_size]` (`"targets": "sequence"`, the default) or
/// `[batch][output_size]` (`"targets": "last"`); class labels
/// ([`step_labels`](Trainer::step_labels), `"loss": "cross_entropy"`) the
/// same without the output axis. Lengths are checked before the call.
///
/// # Why `Trainer<'m>` borrows its model mutably
///
/// A step writes the model's weights, and while it runs nothing else may use
/// the model: no state may step on it, and it may not be cloned, saved or
/// read (recur.h, docs/threading.md). Holding `&'m mut Model` makes that a
/// compile-time rule. Between steps, [`model`](Trainer::model) lends the
/// model out for reading (for example to run a [`State`](crate::State) on it
/// or save it); a state made from it must be dropped before the next step.
/// To serve on another thread while training, serve from a clone.
///
/// ```compile_fail,E0502
/// # fn main() -> recur::Result<()> {
/// let mut model = recur::Model::load("examples/models/tiny_lstm.json")?;
/// let mut trainer = model.trainer("")?;
/// let mut state = trainer.model().state(1)?;       // fine between steps ...
/// trainer.step(&[0.0; 2], 1, 1, &[0.0])?;         // error: ... but not across one
/// state.reset()?;
/// # Ok(()) }
/// ```
///
/// # Threads
///
/// `Send`, not `Sync`: a trainer is used by one thread at a time.
pub struct Trainer<'m> {
    raw: NonNull<sys::recur_trainer>,
    model: &'m mut Model,
    input_size: usize,
    output_size: usize,
    targets_last: bool,
    takes_labels: bool,
}

// SAFETY: one thread at a time, handed over by Send; the model it writes is
// borrowed mutably, so no other thread can reach it meanwhile.
unsafe impl Send for Trainer<'_> {}

impl<'m> Trainer<'m> {
    pub(crate) fn new(model: &'m mut Model, config: &str) -> Result<Trainer<'m>> {
        let config = text_to_c("Model::trainer", "config", config)?;
        let mut out = ptr::null_mut();
        // SAFETY: a live model, borrowed mutably for the trainer's life; a
        // NUL-terminated config ("" is the defaults); `out` written only on success.
        check(unsafe { sys::recur_trainer_create(model.as_mut_raw(), config.as_ptr(), &mut out) })?;
        let raw = NonNull::new(out).expect("recur returned RECUR_OK and a NULL trainer");
        let mut trainer = Trainer {
            raw,
            input_size: model.input_size(),
            output_size: model.output_size(),
            model,
            targets_last: false,
            takes_labels: false,
        };
        // The target layout comes from the library: with "targets": "last" a
        // step of 2 steps takes as many targets as a step of 1.
        let (one, labels) = trainer.target_count(1, 1)?;
        let (two, _) = trainer.target_count(1, 2)?;
        trainer.targets_last = one == two;
        trainer.takes_labels = labels > 0;
        Ok(trainer)
    }

    /// The model being trained, lent out between steps (for a state, a save,
    /// reading tensors).
    pub fn model(&self) -> &Model {
        self.model
    }

    /// Whether the configuration says `"targets": "last"` (one target per sequence).
    pub fn targets_last(&self) -> bool {
        self.targets_last
    }

    /// How many float targets and int32 labels a step of `batch` sequences
    /// of `steps` steps takes (labels 0 when the loss is not cross_entropy).
    pub fn target_count(&self, batch: usize, steps: usize) -> Result<(usize, usize)> {
        let (mut targets, mut labels) = (0, 0);
        // SAFETY: a live trainer; the library checks the sizes.
        check(unsafe { sys::recur_trainer_target_count(self.raw.as_ptr(), batch, steps, &mut targets, &mut labels) })?;
        Ok((targets, labels))
    }

    /// One training step on float targets: forward, loss, backward through
    /// time, optional clipping, one optimizer update. Returns the loss
    /// before the update. On error nothing changes.
    pub fn step(&mut self, x: &[f32], batch: usize, steps: usize, target: &[f32]) -> Result<f32> {
        let context = "Trainer::step";
        self.check_inputs(context, x, batch, steps, None)?;
        self.check_targets(context, target.len(), batch, steps, true)?;
        let mut loss = 0.0;
        // SAFETY: &mut self (one caller, and the model borrowed mutably);
        // x and target have exactly the lengths the library reads.
        check(unsafe {
            sys::recur_trainer_step(self.raw.as_ptr(), x.as_ptr(), batch, steps, target.as_ptr(), &mut loss)
        })?;
        Ok(loss)
    }

    /// [`step`](Trainer::step) with class labels in `[0, output_size)` for
    /// `"loss": "cross_entropy"`: `[batch][steps]`, or `[batch]` with `"targets": "last"`.
    pub fn step_labels(&mut self, x: &[f32], batch: usize, steps: usize, labels: &[i32]) -> Result<f32> {
        let context = "Trainer::step_labels";
        self.check_inputs(context, x, batch, steps, None)?;
        self.check_targets(context, labels.len(), batch, steps, false)?;
        let mut loss = 0.0;
        // SAFETY: as in step.
        check(unsafe {
            sys::recur_trainer_step_labels(self.raw.as_ptr(), x.as_ptr(), batch, steps, labels.as_ptr(), &mut loss)
        })?;
        Ok(loss)
    }

    /// [`step`](Trainer::step) over sequences of different lengths: sequence b
    /// has its first `lengths[b]` steps (1 to `steps`). The loss is the mean
    /// over valid positions (`"last"`: each sequence's own last step);
    /// inputs and targets past a length are never read. `x` and `target`
    /// keep the layout of `step`.
    pub fn step_lengths(
        &mut self,
        x: &[f32],
        batch: usize,
        steps: usize,
        lengths: &[usize],
        target: &[f32],
    ) -> Result<f32> {
        let context = "Trainer::step_lengths";
        self.check_inputs(context, x, batch, steps, Some(lengths))?;
        self.check_targets(context, target.len(), batch, steps, true)?;
        let mut loss = 0.0;
        // SAFETY: as in step; `lengths` has one entry per sequence.
        check(unsafe {
            sys::recur_trainer_step_lengths(
                self.raw.as_ptr(),
                x.as_ptr(),
                batch,
                steps,
                lengths.as_ptr(),
                target.as_ptr(),
                &mut loss,
            )
        })?;
        Ok(loss)
    }

    /// [`step_labels`](Trainer::step_labels) over sequences of different
    /// lengths, as [`step_lengths`](Trainer::step_lengths).
    pub fn step_labels_lengths(
        &mut self,
        x: &[f32],
        batch: usize,
        steps: usize,
        lengths: &[usize],
        labels: &[i32],
    ) -> Result<f32> {
        let context = "Trainer::step_labels_lengths";
        self.check_inputs(context, x, batch, steps, Some(lengths))?;
        self.check_targets(context, labels.len(), batch, steps, false)?;
        let mut loss = 0.0;
        // SAFETY: as in step_lengths.
        check(unsafe {
            sys::recur_trainer_step_labels_lengths(
                self.raw.as_ptr(),
                x.as_ptr(),
                batch,
                steps,
                lengths.as_ptr(),
                labels.as_ptr(),
                &mut loss,
            )
        })?;
        Ok(loss)
    }

    fn check_inputs(
        &self,
        context: &str,
        x: &[f32],
        batch: usize,
        steps: usize,
        lengths: Option<&[usize]>,
    ) -> Result<()> {
        if batch == 0 || steps == 0 {
            return Err(Error::new(
                Status::InvalidArgument,
                format!("{context}: batch ({batch}) and steps ({steps}) must be at least 1"),
            ));
        }
        check_len(
            context,
            "x",
            x.len(),
            &[("batch", batch), ("steps", steps), ("input_size", self.input_size)],
        )?;
        match lengths {
            Some(lengths) => check_len(context, "lengths", lengths.len(), &[("batch", batch)]),
            None => Ok(()),
        }
    }

    /// Checks the length of `target` (floats) or `labels` (`floats` false).
    fn check_targets(&self, context: &str, got: usize, batch: usize, steps: usize, floats: bool) -> Result<()> {
        if !floats && !self.takes_labels {
            return Err(Error::new(
                Status::InvalidArgument,
                format!("{context}: labels need \"loss\": \"cross_entropy\"; this trainer takes float targets (step)"),
            ));
        }
        let what = if floats { "target" } else { "labels" };
        let mut factors = vec![("batch", batch)];
        if !self.targets_last {
            factors.push(("steps", steps));
        }
        if floats {
            factors.push(("output_size", self.output_size));
        }
        check_len(context, what, got, &factors)
    }

    /// Global L2 norm of the last step's gradient, before clipping (0 before the first step).
    pub fn last_gradient_norm(&self) -> f32 {
        // SAFETY: a live trainer.
        unsafe { sys::recur_trainer_last_gradient_norm(self.raw.as_ptr()) }
    }

    /// The last step's gradient of tensor `name` of layer `layer`, row-major
    /// (before clipping; zeros for a frozen layer).
    pub fn gradient(&self, layer: usize, name: &str) -> Result<Vec<f32>> {
        let (rows, columns) = self.model.tensor_shape(layer, name)?;
        let mut out = vec![0.0; rows * columns];
        let c_name = text_to_c("Trainer::gradient", "name", name)?;
        // SAFETY: `out` holds exactly the count passed.
        check(unsafe {
            sys::recur_trainer_get_gradient(self.raw.as_ptr(), layer, c_name.as_ptr(), out.as_mut_ptr(), out.len())
        })?;
        Ok(out)
    }

    /// For each of the last step's `steps` time steps, the L2 norm over the
    /// batch of dL/dh_t of recurrent layer `layer`. Needs
    /// `"record_hidden_gradient_norms": true` in the configuration.
    pub fn hidden_gradient_norms(&self, layer: usize, steps: usize) -> Result<Vec<f32>> {
        // `steps` comes from the caller: an absurd one is an error, not an abort.
        let mut out = Vec::new();
        out.try_reserve_exact(steps).map_err(|_| {
            Error::new(
                Status::OutOfMemory,
                format!("Trainer::hidden_gradient_norms: no memory for {steps} steps"),
            )
        })?;
        out.resize(steps, 0.0);
        // SAFETY: `out` holds exactly `steps` floats.
        check(unsafe { sys::recur_trainer_hidden_gradient_norms(self.raw.as_ptr(), layer, out.as_mut_ptr(), steps) })?;
        Ok(out)
    }

    /// Stateful trainers: forgets the carried state, so the next step starts
    /// every stream from zeros (and may use another batch size).
    pub fn reset_state(&mut self) -> Result<()> {
        // SAFETY: a live trainer, one caller.
        check(unsafe { sys::recur_trainer_reset_state(self.raw.as_ptr()) })
    }

    /// Splits later steps over `threads` worker threads (1, the default,
    /// starts none). Losses and weights stay bit-identical.
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        // SAFETY: a live trainer; the library checks the count.
        check(unsafe { sys::recur_trainer_set_threads(self.raw.as_ptr(), threads) })
    }

    /// The C handle, still owned by this `Trainer` (for calls through [`crate::sys`]).
    pub fn as_raw(&self) -> *const sys::recur_trainer {
        self.raw.as_ptr()
    }
}

impl Drop for Trainer<'_> {
    fn drop(&mut self) {
        // SAFETY: this Trainer owns its handle; &mut self: no step is running.
        unsafe { sys::recur_trainer_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Trainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("targets_last", &self.targets_last)
            .finish()
    }
}
