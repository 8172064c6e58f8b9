//! Recur from Rust: load a recurrent network (RNN, LSTM, GRU) from JSON, run
//! it step by step or over whole sequences for many streams, fine-tune it.
//!
//! A safe binding over the C API of `librecur` (`include/recur.h`), with no
//! dependencies: [`Model`], [`State`] and [`Trainer`] own their C handles
//! and free them on drop; every fallible call returns [`Result`], whose
//! [`Error`] carries the library's [`Status`] and message. Arrays are `f32`
//! slices, row-major, batch first (`[batch][steps][features]`), and their
//! lengths are checked before any call. The raw declarations are in [`sys`].
//!
//! ```
//! # std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap(); // the repository root
//! let model = recur::Model::load("examples/models/tiny_lstm.json")?;
//! let mut state = model.state(1)?;                 // one stream, starting at zero
//! let mut y = vec![0.0; model.output_size()];
//! for x in [[1.0, 0.0], [0.5, -0.5], [0.0, 1.0]] {
//!     state.step(&x, &mut y)?;                     // writes into y: no allocation per step
//!     println!("{}", y[0]);
//! }
//! # Ok::<(), recur::Error>(())
//! ```
//!
//! Lifetimes and threads, in short (docs/rust.md has the details):
//! `Model` is `Send + Sync` and may be shared by threads that each run their
//! own `State`; a `State<'m>` borrows its model and a `Trainer<'m>` borrows it
//! mutably, so the calls that write weights cannot overlap the ones that
//! read them; `State` and `Trainer` are `Send`, not `Sync`.

mod error;
mod model;
mod state;
pub mod sys;
mod trainer;

pub use error::{Error, Result, Status};
pub use model::{LayerInfo, Model, TensorEncoding, WeightStorage};
pub use state::State;
pub use trainer::Trainer;

/// The `RECUR_VERSION_NUMBER` of the header this crate was written against
/// (MAJOR*10000 + MINOR*100 + PATCH).
pub const HEADER_VERSION_NUMBER: u32 = sys::RECUR_VERSION_NUMBER;

/// The loaded library's version, "MAJOR.MINOR.PATCH".
pub fn version() -> &'static str {
    // SAFETY: a static, never-NULL string.
    unsafe { error::static_str(sys::recur_version_string()) }
}

/// The loaded library's version as MAJOR*10000 + MINOR*100 + PATCH.
pub fn version_number() -> u32 {
    // SAFETY: no arguments, no preconditions.
    unsafe { sys::recur_version_number() }
}

/// Whether the loaded library serves this crate: the same MAJOR and at least
/// the header's MINOR (docs/versioning.md).
///
/// The dynamic loader already refuses another MAJOR (the SONAME is
/// `librecur.so.MAJOR`) and, since Rust links with immediate binding, a
/// library missing a function this crate declares; this says so in words.
pub fn version_compatible() -> bool {
    let library = version_number();
    library / 10000 == HEADER_VERSION_NUMBER / 10000 && library / 100 % 100 >= HEADER_VERSION_NUMBER / 100 % 100
}

/// The kernels this process uses: "avx512", "avx2", "sse2" or "reference".
pub fn cpu_kernels() -> &'static str {
    // SAFETY: a static, never-NULL string.
    unsafe { error::static_str(sys::recur_cpu_kernels()) }
}
