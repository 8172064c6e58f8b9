//! The raw C API of `include/recur.h`, declared by hand (no bindgen).
//!
//! Everything here is `unsafe` to call and follows the header's contracts
//! exactly; the safe types in this crate ([`crate::Model`], [`crate::State`],
//! [`crate::Trainer`]) are the intended way in. `tests/header.rs` checks these
//! declarations against the header: every function is declared, and the
//! constants and the struct's fields match.
//!
//! The C enums are declared as integer types with constants, not as Rust
//! enums: the library's enums are append-only (docs/versioning.md), and a
//! Rust enum holding a value it does not list is undefined behaviour. The
//! widths are the Swift exports' (`Int32` for statuses, `UInt32` for the
//! other two), which is also what a C compiler gives these enums.

#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint};

/// `RECUR_VERSION_NUMBER` of the header these declarations follow:
/// MAJOR*10000 + MINOR*100 + PATCH.
pub const RECUR_VERSION_NUMBER: u32 = 100;
pub const RECUR_VERSION_MAJOR: u32 = 0;
pub const RECUR_VERSION_MINOR: u32 = 1;
pub const RECUR_VERSION_PATCH: u32 = 0;
pub const RECUR_VERSION_STRING: &str = "0.1.0";

/// `recur_status`: why a call failed (`RECUR_OK` = 0 is success).
pub type recur_status = c_int;
pub const RECUR_OK: recur_status = 0;
pub const RECUR_ERROR_INVALID_ARGUMENT: recur_status = 1;
pub const RECUR_ERROR_PARSE: recur_status = 2;
pub const RECUR_ERROR_MODEL: recur_status = 3;
pub const RECUR_ERROR_IO: recur_status = 4;
pub const RECUR_ERROR_SHAPE: recur_status = 5;
pub const RECUR_ERROR_NUMERIC: recur_status = 6;
pub const RECUR_ERROR_OUT_OF_MEMORY: recur_status = 7;
pub const RECUR_ERROR_INTERNAL: recur_status = 8;

/// `recur_tensor_encoding`: how tensors are written when a model is saved.
pub type recur_tensor_encoding = c_uint;
pub const RECUR_TENSORS_FLAT: recur_tensor_encoding = 0;
pub const RECUR_TENSORS_BASE64: recur_tensor_encoding = 1;
pub const RECUR_TENSORS_AUTOMATIC: recur_tensor_encoding = 2;

/// `recur_weight_storage`: how a model keeps the weights inference reads.
pub type recur_weight_storage = c_uint;
pub const RECUR_WEIGHTS_FP32: recur_weight_storage = 0;
pub const RECUR_WEIGHTS_FP16: recur_weight_storage = 1;
pub const RECUR_WEIGHTS_INT8: recur_weight_storage = 2;

/// Opaque handle: `recur_model`.
#[repr(C)]
pub struct recur_model {
    _private: [u8; 0],
}

/// Opaque handle: `recur_state`.
#[repr(C)]
pub struct recur_state {
    _private: [u8; 0],
}

/// Opaque handle: `recur_trainer`.
#[repr(C)]
pub struct recur_trainer {
    _private: [u8; 0],
}

/// `recur_layer_info`. The caller sets `struct_size` to
/// `size_of::<recur_layer_info>()`; the library fills the fields that fit.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct recur_layer_info {
    pub struct_size: usize,
    /// "rnn", "lstm", "gru" or "dense" (static storage).
    pub type_: *const c_char,
    /// "tanh", "relu", "linear", "sigmoid" or "softmax" (static storage).
    pub activation: *const c_char,
    pub input_size: usize,
    pub output_size: usize,
    pub hidden_size: usize,
    pub state_size: usize,
    pub bidirectional: c_int,
    pub has_bias: c_int,
    pub tensor_count: usize,
}

// size_t is usize on every target Rust supports that this library builds for.
extern "C" {
    // ---- Library
    pub fn recur_version_number() -> u32;
    pub fn recur_version_string() -> *const c_char;
    pub fn recur_last_error() -> *const c_char;
    pub fn recur_status_string(status: recur_status) -> *const c_char;
    pub fn recur_cpu_kernels() -> *const c_char;

    // ---- Models
    pub fn recur_model_load_file(path: *const c_char, out_model: *mut *mut recur_model) -> recur_status;
    pub fn recur_model_load_json(json: *const c_char, length: usize, out_model: *mut *mut recur_model) -> recur_status;
    pub fn recur_model_save_file(model: *const recur_model, path: *const c_char) -> recur_status;
    pub fn recur_model_save_file_encoded(
        model: *const recur_model,
        path: *const c_char,
        encoding: recur_tensor_encoding,
    ) -> recur_status;
    pub fn recur_model_to_json(
        model: *const recur_model,
        out_json: *mut *mut c_char,
        out_length: *mut usize,
    ) -> recur_status;
    pub fn recur_model_to_json_encoded(
        model: *const recur_model,
        encoding: recur_tensor_encoding,
        out_json: *mut *mut c_char,
        out_length: *mut usize,
    ) -> recur_status;
    pub fn recur_string_free(string: *mut c_char);
    pub fn recur_model_clone(model: *const recur_model, out_model: *mut *mut recur_model) -> recur_status;
    pub fn recur_model_free(model: *mut recur_model);
    pub fn recur_model_input_size(model: *const recur_model) -> usize;
    pub fn recur_model_output_size(model: *const recur_model) -> usize;
    pub fn recur_model_parameter_count(model: *const recur_model) -> usize;
    pub fn recur_model_layer_count(model: *const recur_model) -> usize;
    pub fn recur_model_layer_info(
        model: *const recur_model,
        index: usize,
        out_info: *mut recur_layer_info,
    ) -> recur_status;
    pub fn recur_model_tensor_name(
        model: *const recur_model,
        layer: usize,
        index: usize,
        out_name: *mut *const c_char,
    ) -> recur_status;
    pub fn recur_model_state_size(model: *const recur_model) -> usize;
    pub fn recur_model_get_tensor(
        model: *const recur_model,
        layer: usize,
        name: *const c_char,
        out: *mut f32,
        count: usize,
    ) -> recur_status;
    pub fn recur_model_tensor_shape(
        model: *const recur_model,
        layer: usize,
        name: *const c_char,
        out_rows: *mut usize,
        out_columns: *mut usize,
    ) -> recur_status;
    pub fn recur_model_set_tensor(
        model: *mut recur_model,
        layer: usize,
        name: *const c_char,
        values: *const f32,
        count: usize,
    ) -> recur_status;
    pub fn recur_model_set_weight_storage(model: *mut recur_model, storage: recur_weight_storage) -> recur_status;
    pub fn recur_model_weight_storage(model: *const recur_model) -> recur_weight_storage;

    // ---- Inference state
    pub fn recur_state_create(
        model: *const recur_model,
        batch: usize,
        out_state: *mut *mut recur_state,
    ) -> recur_status;
    pub fn recur_state_free(state: *mut recur_state);
    pub fn recur_state_reset(state: *mut recur_state) -> recur_status;
    pub fn recur_state_reset_stream(state: *mut recur_state, stream: usize) -> recur_status;
    pub fn recur_state_size(state: *const recur_state) -> usize;
    pub fn recur_state_batch(state: *const recur_state) -> usize;
    pub fn recur_state_get(state: *const recur_state, out: *mut f32, count: usize) -> recur_status;
    pub fn recur_state_set(state: *mut recur_state, values: *const f32, count: usize) -> recur_status;
    pub fn recur_state_step(state: *mut recur_state, x: *const f32, y: *mut f32) -> recur_status;
    pub fn recur_state_run(state: *mut recur_state, x: *const f32, steps: usize, y: *mut f32) -> recur_status;
    pub fn recur_state_run_lengths(
        state: *mut recur_state,
        x: *const f32,
        steps: usize,
        lengths: *const usize,
        y: *mut f32,
    ) -> recur_status;
    pub fn recur_state_set_threads(state: *mut recur_state, threads: usize) -> recur_status;

    // ---- Fine-tuning
    pub fn recur_trainer_create(
        model: *mut recur_model,
        config_json: *const c_char,
        out_trainer: *mut *mut recur_trainer,
    ) -> recur_status;
    pub fn recur_trainer_free(trainer: *mut recur_trainer);
    // Declared for completeness; the safe `Trainer` borrows its model
    // mutably, so it offers no clone onto the same model.
    pub fn recur_trainer_clone(
        trainer: *const recur_trainer,
        model: *mut recur_model,
        out_trainer: *mut *mut recur_trainer,
    ) -> recur_status;
    pub fn recur_trainer_step(
        trainer: *mut recur_trainer,
        x: *const f32,
        batch: usize,
        steps: usize,
        target: *const f32,
        out_loss: *mut f32,
    ) -> recur_status;
    pub fn recur_trainer_step_labels(
        trainer: *mut recur_trainer,
        x: *const f32,
        batch: usize,
        steps: usize,
        labels: *const i32,
        out_loss: *mut f32,
    ) -> recur_status;
    pub fn recur_trainer_step_lengths(
        trainer: *mut recur_trainer,
        x: *const f32,
        batch: usize,
        steps: usize,
        lengths: *const usize,
        target: *const f32,
        out_loss: *mut f32,
    ) -> recur_status;
    pub fn recur_trainer_step_labels_lengths(
        trainer: *mut recur_trainer,
        x: *const f32,
        batch: usize,
        steps: usize,
        lengths: *const usize,
        labels: *const i32,
        out_loss: *mut f32,
    ) -> recur_status;
    pub fn recur_trainer_target_count(
        trainer: *const recur_trainer,
        batch: usize,
        steps: usize,
        out_targets: *mut usize,
        out_labels: *mut usize,
    ) -> recur_status;
    pub fn recur_trainer_last_gradient_norm(trainer: *const recur_trainer) -> f32;
    pub fn recur_trainer_get_gradient(
        trainer: *const recur_trainer,
        layer: usize,
        name: *const c_char,
        out: *mut f32,
        count: usize,
    ) -> recur_status;
    pub fn recur_trainer_reset_state(trainer: *mut recur_trainer) -> recur_status;
    pub fn recur_trainer_set_threads(trainer: *mut recur_trainer, threads: usize) -> recur_status;
    pub fn recur_trainer_hidden_gradient_norms(
        trainer: *const recur_trainer,
        layer: usize,
        out: *mut f32,
        steps: usize,
    ) -> recur_status;
}
