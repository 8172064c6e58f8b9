//! `Model`: a loaded Recur model (`recur_model`).

use std::ffi::CString;
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{check, check_len, static_str, Error, Result, Status};
use crate::state::State;
use crate::sys;
use crate::trainer::Trainer;

/// How tensors are written when a model is saved (`recur_tensor_encoding`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TensorEncoding {
    /// `{"shape": [...], "data": [...]}`: readable decimal numbers.
    Flat,
    /// `{"shape": [...], "base64": "..."}`: little-endian float32, fast to load.
    Base64,
    /// Base64 for tensors of more than 4096 values, flat for the others (the default).
    #[default]
    Automatic,
}

impl TensorEncoding {
    fn raw(self) -> sys::recur_tensor_encoding {
        match self {
            TensorEncoding::Flat => sys::RECUR_TENSORS_FLAT,
            TensorEncoding::Base64 => sys::RECUR_TENSORS_BASE64,
            TensorEncoding::Automatic => sys::RECUR_TENSORS_AUTOMATIC,
        }
    }
}

/// How inference reads a model's weights (`recur_weight_storage`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WeightStorage {
    /// float32 weights (the default).
    #[default]
    Fp32,
    /// fp16 copies of the weights, widened to float32 as they are read
    /// (outputs move by about 1e-3; docs/performance.md).
    Fp16,
    /// int8 copies with a scale per output, multiplied in integers
    /// (inference only: trainer steps are refused).
    Int8,
    /// A storage this crate does not know (from a newer library).
    Unknown(u32),
}

impl WeightStorage {
    fn raw(self) -> sys::recur_weight_storage {
        match self {
            WeightStorage::Fp32 => sys::RECUR_WEIGHTS_FP32,
            WeightStorage::Fp16 => sys::RECUR_WEIGHTS_FP16,
            WeightStorage::Int8 => sys::RECUR_WEIGHTS_INT8,
            WeightStorage::Unknown(code) => code,
        }
    }

    fn from_raw(code: sys::recur_weight_storage) -> WeightStorage {
        match code {
            sys::RECUR_WEIGHTS_FP32 => WeightStorage::Fp32,
            sys::RECUR_WEIGHTS_FP16 => WeightStorage::Fp16,
            sys::RECUR_WEIGHTS_INT8 => WeightStorage::Int8,
            other => WeightStorage::Unknown(other),
        }
    }
}

/// One layer of a model, as `recur_model_layer_info` describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    /// "rnn", "lstm", "gru" or "dense".
    pub kind: &'static str,
    /// "tanh", "relu", "linear", "sigmoid" or "softmax".
    pub activation: &'static str,
    /// Values per step coming in.
    pub input_size: usize,
    /// Values per step going out (2 * hidden_size when bidirectional).
    pub output_size: usize,
    /// hidden_size of a recurrent layer, units of a dense layer.
    pub hidden_size: usize,
    /// Floats per stream this layer keeps (0 for dense layers).
    pub state_size: usize,
    pub bidirectional: bool,
    pub has_bias: bool,
    /// How many tensors it has ([`Model::tensor_names`]).
    pub tensor_count: usize,
}

/// A Recur model: its layers and weights.
///
/// Make one with [`Model::from_json`] or [`Model::load`]; run it through a
/// [`State`] ([`Model::state`]); fine-tune it with a [`Trainer`]
/// ([`Model::trainer`]).
///
/// # Threads
///
/// `Model` is `Send` and `Sync`: inference never writes to a model, so any
/// number of threads may share a `&Model`, each running its own `State`
/// (docs/threading.md). The calls that write the weights
/// ([`set_tensor`](Model::set_tensor), [`set_weight_storage`](Model::set_weight_storage),
/// a trainer's steps) need `&mut Model`, so the borrow checker keeps every
/// state, clone, save and read of the model out while they run, as the C API
/// requires. To serve while training, serve from a [`try_clone`](Model::try_clone).
pub struct Model {
    raw: NonNull<sys::recur_model>,
}

// SAFETY: docs/threading.md: a model may be created, used and freed on any
// thread; any number of threads may read it at once; writes take &mut self.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// A model from JSON text (model format v1).
    ///
    /// Errors: [`Status::Parse`] (not JSON), [`Status::Model`] (not a valid model).
    pub fn from_json(json: &str) -> Result<Model> {
        let mut out = ptr::null_mut();
        // SAFETY: the text is passed with its length (no NUL needed); `out` is
        // written only on success.
        check(unsafe { sys::recur_model_load_json(json.as_ptr().cast(), json.len(), &mut out) })?;
        Ok(Model::adopt(out))
    }

    /// Loads a model file (JSON, model format v1).
    ///
    /// Errors: [`Status::Io`] (the file cannot be read), [`Status::Parse`],
    /// [`Status::Model`], and [`Status::InvalidArgument`] for a path with a NUL byte.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path_to_c("Model::load", path.as_ref())?;
        let mut out = ptr::null_mut();
        // SAFETY: `path` is NUL-terminated; `out` is written only on success.
        check(unsafe { sys::recur_model_load_file(path.as_ptr(), &mut out) })?;
        Ok(Model::adopt(out))
    }

    /// The handle for the calls that write the model (which take `&mut self`).
    pub(crate) fn as_mut_raw(&mut self) -> *mut sys::recur_model {
        self.raw.as_ptr()
    }

    fn adopt(raw: *mut sys::recur_model) -> Model {
        Model {
            raw: NonNull::new(raw).expect("recur returned RECUR_OK and a NULL model"),
        }
    }

    /// The C handle, still owned by this `Model` (for calls through [`crate::sys`]).
    pub fn as_raw(&self) -> *const sys::recur_model {
        self.raw.as_ptr()
    }

    /// Saves the model to a file as JSON (tensors [`TensorEncoding::Automatic`]).
    /// Atomic: written beside `path`, then renamed over it.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_encoded(path, TensorEncoding::Automatic)
    }

    /// [`save`](Model::save) with a choice of tensor encoding.
    pub fn save_encoded(&self, path: impl AsRef<Path>, encoding: TensorEncoding) -> Result<()> {
        let path = path_to_c("Model::save", path.as_ref())?;
        // SAFETY: a live model and a NUL-terminated path.
        check(unsafe { sys::recur_model_save_file_encoded(self.raw.as_ptr(), path.as_ptr(), encoding.raw()) })
    }

    /// The model as JSON text (tensors [`TensorEncoding::Automatic`]).
    pub fn to_json(&self) -> Result<String> {
        self.to_json_encoded(TensorEncoding::Automatic)
    }

    /// [`to_json`](Model::to_json) with a choice of tensor encoding.
    pub fn to_json_encoded(&self, encoding: TensorEncoding) -> Result<String> {
        let mut text: *mut c_char = ptr::null_mut();
        let mut length = 0usize;
        // SAFETY: a live model; on success `text` is a library string of
        // `length` bytes that we copy, then free with recur_string_free.
        unsafe {
            check(sys::recur_model_to_json_encoded(
                self.raw.as_ptr(),
                encoding.raw(),
                &mut text,
                &mut length,
            ))?;
            let bytes = std::slice::from_raw_parts(text.cast::<u8>(), length).to_vec();
            sys::recur_string_free(text);
            String::from_utf8(bytes).map_err(|_| {
                Error::new(
                    Status::Internal,
                    "Model::to_json: the library wrote text that is not UTF-8",
                )
            })
        }
    }

    /// An independent copy with its own weights (`recur_model_clone`).
    /// [`Clone::clone`] does the same and panics if memory runs out.
    pub fn try_clone(&self) -> Result<Model> {
        let mut out = ptr::null_mut();
        // SAFETY: a live model; `out` is written only on success.
        check(unsafe { sys::recur_model_clone(self.raw.as_ptr(), &mut out) })?;
        Ok(Model::adopt(out))
    }

    /// Features per time step of the input.
    pub fn input_size(&self) -> usize {
        // SAFETY (these queries): a live model.
        unsafe { sys::recur_model_input_size(self.raw.as_ptr()) }
    }

    /// Features per time step of the output (the last layer's).
    pub fn output_size(&self) -> usize {
        unsafe { sys::recur_model_output_size(self.raw.as_ptr()) }
    }

    /// Number of parameters (weight and bias elements).
    pub fn parameter_count(&self) -> usize {
        unsafe { sys::recur_model_parameter_count(self.raw.as_ptr()) }
    }

    /// Number of layers.
    pub fn layer_count(&self) -> usize {
        unsafe { sys::recur_model_layer_count(self.raw.as_ptr()) }
    }

    /// Floats of state per stream (each recurrent layer's h, and c for LSTM).
    pub fn state_size(&self) -> usize {
        unsafe { sys::recur_model_state_size(self.raw.as_ptr()) }
    }

    /// How inference reads the weights.
    pub fn weight_storage(&self) -> WeightStorage {
        WeightStorage::from_raw(unsafe { sys::recur_model_weight_storage(self.raw.as_ptr()) })
    }

    /// Describes layer `index` (0 = the layer the input enters).
    pub fn layer(&self, index: usize) -> Result<LayerInfo> {
        let mut info = sys::recur_layer_info {
            struct_size: std::mem::size_of::<sys::recur_layer_info>(),
            type_: ptr::null(),
            activation: ptr::null(),
            input_size: 0,
            output_size: 0,
            hidden_size: 0,
            state_size: 0,
            bidirectional: 0,
            has_bias: 0,
            tensor_count: 0,
        };
        // SAFETY: a live model and a struct whose struct_size says how much
        // the library may fill; its strings are static.
        unsafe {
            check(sys::recur_model_layer_info(self.raw.as_ptr(), index, &mut info))?;
            Ok(LayerInfo {
                kind: static_str(info.type_),
                activation: static_str(info.activation),
                input_size: info.input_size,
                output_size: info.output_size,
                hidden_size: info.hidden_size,
                state_size: info.state_size,
                bidirectional: info.bidirectional != 0,
                has_bias: info.has_bias != 0,
                tensor_count: info.tensor_count,
            })
        }
    }

    /// The names of layer `layer`'s tensors, in the format's order
    /// ("weight_ih", "weight_hh", "bias_ih", "bias_hh"; "weight", "bias").
    pub fn tensor_names(&self, layer: usize) -> Result<Vec<&'static str>> {
        let count = self.layer(layer)?.tensor_count;
        (0..count)
            .map(|index| {
                let mut name = ptr::null();
                // SAFETY: a live model; the name is a static string.
                unsafe {
                    check(sys::recur_model_tensor_name(self.raw.as_ptr(), layer, index, &mut name))?;
                    Ok(static_str(name))
                }
            })
            .collect()
    }

    /// The shape of tensor `name` of layer `layer`: (rows, columns), (rows, 1) for a bias.
    pub fn tensor_shape(&self, layer: usize, name: &str) -> Result<(usize, usize)> {
        let name = text_to_c("Model::tensor_shape", "name", name)?;
        let (mut rows, mut columns) = (0, 0);
        // SAFETY: a live model and a NUL-terminated name.
        check(unsafe {
            sys::recur_model_tensor_shape(self.raw.as_ptr(), layer, name.as_ptr(), &mut rows, &mut columns)
        })?;
        Ok((rows, columns))
    }

    /// A copy of tensor `name` of layer `layer`, row-major.
    pub fn get_tensor(&self, layer: usize, name: &str) -> Result<Vec<f32>> {
        let (rows, columns) = self.tensor_shape(layer, name)?;
        let mut out = vec![0.0; rows * columns];
        self.get_tensor_into(layer, name, &mut out)?;
        Ok(out)
    }

    /// Copies tensor `name` of layer `layer` into `out`, which must have exactly its size.
    pub fn get_tensor_into(&self, layer: usize, name: &str, out: &mut [f32]) -> Result<()> {
        self.check_tensor_len("Model::get_tensor", "out", out.len(), layer, name)?;
        let name = text_to_c("Model::get_tensor", "name", name)?;
        // SAFETY: `out` holds exactly the tensor's size (checked above, and
        // the library checks the count again).
        check(unsafe {
            sys::recur_model_get_tensor(self.raw.as_ptr(), layer, name.as_ptr(), out.as_mut_ptr(), out.len())
        })
    }

    /// Replaces tensor `name` of layer `layer` with `values` (its exact size,
    /// finite). On error the model is unchanged.
    pub fn set_tensor(&mut self, layer: usize, name: &str, values: &[f32]) -> Result<()> {
        self.check_tensor_len("Model::set_tensor", "values", values.len(), layer, name)?;
        let name = text_to_c("Model::set_tensor", "name", name)?;
        // SAFETY: &mut self: no state, trainer or reader uses the model now;
        // the library reads at most `values.len()` floats.
        check(unsafe {
            sys::recur_model_set_tensor(self.raw.as_ptr(), layer, name.as_ptr(), values.as_ptr(), values.len())
        })
    }

    /// Shape unless `got` is the size of tensor `name` of layer `layer`.
    fn check_tensor_len(&self, context: &str, what: &str, got: usize, layer: usize, name: &str) -> Result<()> {
        let (rows, columns) = self.tensor_shape(layer, name)?;
        let tensor = format!("{name} of layer {layer}: rows");
        check_len(context, what, got, &[(tensor.as_str(), rows), ("columns", columns)])
    }

    /// Chooses how inference reads the weights (fp16 halves the bytes a
    /// step streams; docs/performance.md). Training and saving keep float32.
    pub fn set_weight_storage(&mut self, storage: WeightStorage) -> Result<()> {
        // SAFETY: &mut self: nothing runs on the model meanwhile.
        check(unsafe { sys::recur_model_set_weight_storage(self.raw.as_ptr(), storage.raw()) })
    }

    /// New inference state for `batch` streams, all at zero.
    pub fn state(&self, batch: usize) -> Result<State<'_>> {
        State::new(self, batch)
    }

    /// A trainer that fine-tunes this model in place. `config` is the JSON
    /// object of `recur_trainer_create` (docs/fine-tuning.md), "" for the defaults.
    ///
    /// Errors: [`Status::Parse`] (config not JSON), [`Status::Model`] (an
    /// unknown key or value; the message names it).
    pub fn trainer(&mut self, config: &str) -> Result<Trainer<'_>> {
        Trainer::new(self, config)
    }
}

impl Clone for Model {
    /// An independent copy (`recur_model_clone`). Panics only if memory runs out.
    fn clone(&self) -> Model {
        self.try_clone().unwrap_or_else(|error| panic!("Model::clone: {error}"))
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: this Model owns its reference; states and trainers made
        // from it borrow it, so none is left (the library would keep the
        // model alive for them anyway).
        unsafe { sys::recur_model_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("input_size", &self.input_size())
            .field("output_size", &self.output_size())
            .field("layers", &self.layer_count())
            .field("parameters", &self.parameter_count())
            .finish()
    }
}

/// `text` as a C string; a NUL byte inside is an Error, not a panic.
pub(crate) fn text_to_c(context: &str, what: &str, text: &str) -> Result<CString> {
    CString::new(text).map_err(|_| {
        Error::new(
            Status::InvalidArgument,
            format!("{context}: {what} contains a NUL byte"),
        )
    })
}

/// A path as a C string: its bytes as the OS gives them (Unix), or UTF-8.
fn path_to_c(context: &str, path: &Path) -> Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| {
            Error::new(
                Status::InvalidArgument,
                format!("{context}: the path is not valid Unicode"),
            )
        })?
        .as_bytes()
        .to_vec();
    CString::new(bytes).map_err(|_| {
        Error::new(
            Status::InvalidArgument,
            format!("{context}: the path {path:?} contains a NUL byte"),
        )
    })
}
